"""``convert_rs4d``: official RS4D checkpoints (``QinzheYang/RS4D``) -> :class:`~mmrsfm.models.backbones.RSMamba`.

Sources handled: the distilled backbones (``models_after_dis/*/model_parameterskk.pth``: a bare state dict,
possibly with a DDP ``module.`` prefix) and full RS4D detector checkpoints (``{'state_dict': ...}`` with
``backbone.`` keys beside ``neck.``, ``rpn_head.``, ``roi_head.``, ...). The official key names are kept
(RSMamba uses them); only the wrappers and prefixes go, and keys RSMamba does not have (``ln2`` of the
official ``out_type='avg_featmap'``, a ``cls_token``, heads and necks) are dropped and returned.
"""
import re
from typing import Optional, Sequence, Union

from ..layers.pos_embed import resize_flat_square_pos_embed
from .checkpoint_io import ANOTHER_FAMILY, ConversionResult, strip_prefixes, unwrap_state_dict

#: Top-level names of RSMamba's state dict.
RSMAMBA_KEYS = ('patch_embed.', 'pos_embed', 'layers.', 'gate_layers.', 'pre_norm.', 'ln1.')
#: The Mamba mixer's state matrix (HF ``MambaMixer`` naming), in every RSMamba layer: what makes a
#: checkpoint RS4D's (other families also have ``patch_embed.``/``layers.`` keys).
MIXER_KEY = re.compile(r'^layers\.\d+\.A_log$')
EXPECTED = ("expected an official RS4D checkpoint (a distilled RSMamba backbone with keys like "
            "'layers.0.A_log', 'layers.0.in_proj.weight', 'patch_embed.projection.weight', or a detector "
            "with them under 'backbone.')")


def convert_rs4d(ckpt: dict,
                 img_size: Optional[Union[int, Sequence[int]]] = None,
                 patch_size: int = 16) -> ConversionResult:
    """Official RS4D checkpoint -> RSMamba state dict (no ``backbone.`` prefix).

    Args:
        ckpt: The loaded checkpoint: a state dict, or a dict holding one under ``'state_dict'`` or
            ``'model'``. Keys may carry ``module.`` and/or ``backbone.`` prefixes.
        img_size: Resize ``pos_embed`` (bicubic, on its square token grid) for this design input size.
            Defaults to None: keep it (RSMamba also resizes on load).
        patch_size: Patch side, for ``img_size``. Defaults to 16.

    Returns:
        ``(state_dict, dropped)``: the backbone state dict, loadable strictly into an ``RSMamba`` of the
        same arch and path type, and the sorted source keys left out (non-backbone keys).

    Raises:
        KeyError: the checkpoint has no Mamba layers (another layout).
    """
    sd = unwrap_state_dict(ckpt, ('state_dict', 'model'))
    # A detector checkpoint holds the backbone under 'backbone.' (the rest is its task); a bare backbone
    # has no such prefix.
    detector = any(strip_prefixes(k, ('module.', )).startswith('backbone.') for k in sd)
    out, dropped = {}, []
    for raw, value in sd.items():
        key = strip_prefixes(raw, ('module.', ))
        if detector:
            if not key.startswith('backbone.'):
                dropped.append(raw)
                continue
            key = key[len('backbone.'):]
        if key.startswith(RSMAMBA_KEYS):
            out[key] = value
        else:
            dropped.append(raw)
    if not any(MIXER_KEY.match(k) for k in out):
        raise KeyError(f"no Mamba layers ('layers.<i>.A_log') found: not an RS4D RSMamba checkpoint; {EXPECTED}; "
                       f'{ANOTHER_FAMILY}')
    if img_size is not None and 'pos_embed' in out:
        h, w = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        grid = (-(-h // patch_size), -(-w // patch_size))
        resized, src = resize_flat_square_pos_embed(out['pos_embed'], grid)
        if src != grid:
            out['pos_embed'] = resized
    return out, sorted(dropped)
