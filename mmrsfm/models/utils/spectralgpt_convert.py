"""Official SpectralGPT checkpoints (Zenodo record 8412455: ``SpectralGPT.pth``, ``SpectralGPT+.pth``)
-> :class:`~mmrsfm.models.backbones.SpectralGPT` / :class:`~mmrsfm.models.pretrainers.SpectralMAE`.

The official pretraining state dict (``ckpt['model']``, possibly ``module.``-prefixed) holds the MAE
encoder (``patch_embed.proj``, ``pos_embed_spatial`` (1, h * w, C), ``pos_embed_temporal``
(1, groups, C), ``blocks.i.{norm1,attn.{q,k,v,proj},norm2,mlp.{fc1,fc2}}``, ``norm``) and decoder
(``decoder_embed``, ``mask_token``, ``decoder_pos_embed_{spatial,temporal}``, ``decoder_blocks.i.*``,
``decoder_norm``, ``decoder_pred``); REFERENCE §3.4. Our modules use the same names, so conversion
is selection and prefixing; position embeddings of another size (the 96² ``SpectralGPT.pth``) are
resized when loaded.
"""
import re
from typing import Dict

import torch

from .ckpt_convert import strip_prefixes, unwrap_state_dict

StateDict = Dict[str, torch.Tensor]

ENCODER_KEY = re.compile(r'^(patch_embed\.proj\.(weight|bias)|pos_embed_spatial|pos_embed_temporal|'
                         r'blocks\.\d+\.(norm1|norm2|attn\.(q|k|v|proj)|mlp\.(fc1|fc2))\.(weight|bias)|'
                         r'norm\.(weight|bias))$')
DECODER_KEY = re.compile(r'^(decoder_embed\.(weight|bias)|mask_token|decoder_pos_embed_(spatial|temporal)|'
                         r'decoder_blocks\.\d+\.(norm1|norm2|attn\.(q|k|v|proj)|mlp\.(fc1|fc2))\.(weight|bias)|'
                         r'decoder_norm\.(weight|bias)|decoder_pred\.(weight|bias))$')
#: Task heads of the official fine-tuning / downstream models (classifier, SegMunich/OSCD fusion,
#: pyramid and UperNet-like head): dropped, as they belong to another model.
HEAD_KEY = re.compile(r'^(head|fc_norm|fc|conv[0-3]|decoder|cls_seg)\.')


def convert_spectralgpt(ckpt: dict, with_decoder: bool = False) -> StateDict:
    """Convert an official SpectralGPT checkpoint.

    Args:
        ckpt: The loaded checkpoint: ``{'model': state_dict, ...}`` (optimizer state and the rest are
            ignored), or a bare state dict. A ``module.`` prefix (DDP) is stripped.
        with_decoder: Return a :class:`SpectralMAE` state dict (encoder under ``backbone.``, decoder
            keys unchanged) instead of a bare :class:`SpectralGPT` one. Defaults to False.

    Returns:
        State dict for a strict ``load_state_dict`` (SpectralGPT with ``spectral_fusion='mean'``
        and ``out_type='featmap'``; other dense options add fresh ``spectral_fuse.*``/``pyramid.*``
        parameters, which are not in any released checkpoint).

    Raises:
        KeyError: on keys that are neither encoder, decoder nor a known task head, or when the
            encoder (or, with ``with_decoder``, the decoder) is missing.
        ValueError: on a joint ``pos_embed`` (official fine-tuning models with
            ``sep_pos_embed=False``), which cannot be split back into spatial and spectral parts.
    """
    out, unknown, found_dec = {}, [], False
    for key, value in unwrap_state_dict(ckpt).items():
        key = strip_prefixes(key, ('module.', ))
        if key == 'pos_embed':
            raise ValueError("'pos_embed': a joint position embedding (official fine-tuning model built with "
                             'sep_pos_embed=False, whose embedding was never loaded from pretraining, '
                             'REFERENCE §3.5 #32); convert the pretraining checkpoint SpectralGPT(+).pth instead')
        if ENCODER_KEY.match(key):
            out[('backbone.' if with_decoder else '') + key] = value
        elif DECODER_KEY.match(key):
            found_dec = True
            if with_decoder:
                out[key] = value
        elif not HEAD_KEY.match(key):
            unknown.append(key)
    if unknown:
        raise KeyError(f'not SpectralGPT keys: {unknown[:8]}{" ..." if len(unknown) > 8 else ""} '
                       f'(expected the official MAE layout, REFERENCE §3.4)')
    prefix = 'backbone.' if with_decoder else ''
    if prefix + 'patch_embed.proj.weight' not in out or prefix + 'blocks.0.attn.q.weight' not in out:
        raise KeyError('no SpectralGPT encoder keys (patch_embed.proj.weight, blocks.0.attn.q.weight) found')
    if with_decoder and not found_dec:
        raise KeyError('with_decoder=True but the checkpoint has no decoder_* keys (a fine-tuned encoder?)')
    return out
