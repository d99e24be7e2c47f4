"""``convert_rs4d``: official RS4D checkpoints -> :class:`~mmrsfm.models.backbones.RSMamba` keys.

Sources handled: the distilled backbones (``models_after_dis/*/model_parameterskk.pth``: a bare state dict,
possibly with a DDP ``module.`` prefix) and full RS4D detector checkpoints (``{'state_dict': ...}`` with
``backbone.`` keys beside ``neck.``, ``rpn_head.``, ``roi_head.``, ...). The official key names are kept
(RSMamba uses them); only the wrappers and prefixes go, and keys RSMamba does not have (``ln2`` of the
official ``out_type='avg_featmap'``, a ``cls_token``, heads and necks) are dropped and listed.
"""
from typing import Dict, Optional, Sequence, Union

import torch

from ..layers.pos_embed import resize_flat_square_pos_embed
from .ckpt_convert import strip_prefixes, unwrap_state_dict

StateDict = Dict[str, torch.Tensor]

#: Top-level names of RSMamba's state dict.
RSMAMBA_KEYS = ('patch_embed.', 'pos_embed', 'layers.', 'gate_layers.', 'pre_norm.', 'ln1.')


def convert_rs4d(ckpt: dict,
                 img_size: Optional[Union[int, Sequence[int]]] = None,
                 patch_size: int = 16,
                 verbose: bool = True) -> StateDict:
    """Official RS4D checkpoint -> RSMamba state dict (no ``backbone.`` prefix).

    Args:
        ckpt: The loaded checkpoint: a state dict, or a dict holding one under ``'state_dict'`` or
            ``'model'``. Keys may carry ``module.`` and/or ``backbone.`` prefixes.
        img_size: Resize ``pos_embed`` (bicubic, on its square token grid) for this design input size.
            Defaults to None: keep it (RSMamba also resizes on load).
        patch_size: Patch side, for ``img_size``. Defaults to 16.
        verbose: Print the dropped keys. Defaults to True.

    Returns:
        The backbone state dict, loadable strictly into an ``RSMamba`` of the same arch and path type.
    """
    stripped = {strip_prefixes(k, ('module.', )): v
                for k, v in unwrap_state_dict(ckpt, ('state_dict', 'model')).items()}
    # A detector checkpoint holds the backbone under 'backbone.'; a bare backbone has no such prefix.
    if any(k.startswith('backbone.') for k in stripped):
        stripped = {k[len('backbone.'):] if k.startswith('backbone.') else k: v for k, v in stripped.items()}
    out, dropped = {}, []
    for key, value in stripped.items():
        if key.startswith(RSMAMBA_KEYS):
            out[key] = value
        else:
            dropped.append(key)
    if not any(k.startswith('layers.') for k in out):
        raise KeyError("no 'layers.*' keys: not an RS4D RSMamba checkpoint")
    if dropped and verbose:
        print(f'convert_rs4d: dropped {len(dropped)} non-backbone keys: {sorted(dropped)}')
    if img_size is not None and 'pos_embed' in out:
        h, w = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        grid = (-(-h // patch_size), -(-w // patch_size))
        resized, src = resize_flat_square_pos_embed(out['pos_embed'], grid)
        if src != grid:
            if verbose:
                print(f'convert_rs4d: resized pos_embed from {src} to {grid}')
            out['pos_embed'] = resized
    return out
