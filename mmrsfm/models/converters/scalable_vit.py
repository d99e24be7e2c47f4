"""MAE / timm ViT checkpoints -> :class:`~mmrsfm.models.ScalableViT` keys (a pure function).

Source layouts (same block names in both):

* facebookresearch/mae pretraining checkpoints: ``ckpt['model']`` with ``patch_embed.proj``,
  ``cls_token``, ``pos_embed`` (1, 1 + N, C), ``blocks.{i}.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}``,
  ``norm``, and the decoder (``mask_token``, ``decoder_*``);
* MAE fine-tuned / timm ``VisionTransformer`` state dicts: the same encoder keys plus possibly
  ``fc_norm``, ``head``, ``reg_token`` and layer scale ``blocks.{i}.ls{1,2}.gamma``;
* mmrsfm's own :class:`~mmrsfm.models.MAEPretrainer` checkpoints (``backbone.`` + decoder keys).

What changes:

* ``module.`` / ``encoder.`` / ``backbone.`` prefixes are stripped;
* ``pos_embed`` loses its leading cls / register-token positions (ScalableViT has no cls token; the
  MAE loss never used it) and becomes a (1, h, w, C) grid, bicubically resized to ``grid_size``;
* layer scale ``ls1.gamma`` / ``ls2.gamma`` (timm) and ``gamma_1`` / ``gamma_2`` (BEiT) become ``gamma1`` / ``gamma2``;
* cls / register / mask tokens, the MAE decoder, ``fc_norm`` and classification heads are dropped and
  returned by their source names, so the caller can print what was left out.

Keys that have no ScalableViT counterpart and are not known to be droppable (e.g. timm's ``q_norm``,
``norm_pre``) raise, rather than being lost silently.
"""
import math
import re
from typing import Optional, Tuple

import torch

from ..layers.pos_embed import resize_pos_embed_grid
from .checkpoint_io import ANOTHER_FAMILY, ConversionResult, strip_prefixes, unwrap_state_dict

_PREFIXES = ('module.', 'encoder.', 'backbone.')
_DROP = re.compile(r'^(cls_token|reg_token|dist_token|mask_token|decoder_.*|fc_norm\..*|head\..*|head_dist\..*|'
                   r'pre_logits\..*)$')
_KEEP = re.compile(r'^(patch_embed\.proj\.(weight|bias)|pos_embed|norm\.(weight|bias)|'
                   r'blocks\.\d+\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.(weight|bias)|'
                   r'blocks\.\d+\.attn\.rel_pos_[hw]|blocks\.\d+\.gamma[12])$')
EXPECTED = ("expected a plain ViT checkpoint (facebookresearch/mae, timm, or mmrsfm's MAEPretrainer: keys like "
            "'patch_embed.proj.weight', 'blocks.0.attn.qkv.weight', global attention with a fused qkv)")
_RENAMES = ((re.compile(r'^(blocks\.\d+)\.ls([12])\.gamma$'), r'\1.gamma\2'),
            (re.compile(r'^(blocks\.\d+)\.gamma_([12])$'), r'\1.gamma\2'))


def _pos_embed_grid(pos_embed: torch.Tensor, num_prefix: int,
                    src_grid: Optional[Tuple[int, int]]) -> Tuple[torch.Tensor, int]:
    """(1, extra + h * w, C) -> ((1, h, w, C), extra), choosing ``extra`` among the prefix tokens."""
    n = pos_embed.shape[1]
    if src_grid is not None:
        extra = n - src_grid[0] * src_grid[1]
        if extra not in (0, num_prefix):
            raise ValueError(f'pos_embed has {n} positions; src_grid {tuple(src_grid)} leaves {extra}, expected '
                             f'0 or {num_prefix} (cls/register tokens in the checkpoint)')
        return pos_embed[:, extra:].reshape(1, *src_grid, -1), extra
    for extra in (num_prefix, 0):
        g = math.isqrt(n - extra)
        if g * g == n - extra:
            return pos_embed[:, extra:].reshape(1, g, g, -1), extra
    raise ValueError(f'pos_embed has {n} positions, not a square grid with {num_prefix} or 0 prefix tokens; '
                     f'give the source grid (src_grid=(H, W); CLI: --src-grid H W)')


def convert_scalable_vit(ckpt: dict, grid_size: Optional[Tuple[int, int]] = None,
                         src_grid: Optional[Tuple[int, int]] = None) -> ConversionResult:
    """MAE / timm ViT checkpoint -> ScalableViT state dict (see the module docstring).

    Args:
        ckpt: The loaded checkpoint (``{'model': ...}``, ``{'state_dict': ...}``, DeepSpeed's
            ``{'module': ...}`` or a flat state dict).
        grid_size: Token grid (H / patch, W / patch) of the target model's ``img_size``; None keeps
            the source grid (ScalableViT also resizes on load).
        src_grid: The source token grid; needed only for non-square grids stored flat.

    Returns:
        ``(state_dict, dropped)``: ScalableViT keys (no ``backbone.`` prefix) and the sorted source keys
        left out on purpose. ``pos_embed`` always loses its cls / register-token positions.

    Raises:
        ValueError: keys with no ScalableViT counterpart (another architecture), no patch embedding,
            or a ``pos_embed`` whose grid cannot be inferred.
    """
    sd = unwrap_state_dict(ckpt, ('model', 'state_dict', 'module'))
    src = {strip_prefixes(k, _PREFIXES, repeat=True): k for k in sd}  # stripped -> source key
    num_prefix = sum(sd[src[k]].shape[1] for k in ('cls_token', 'reg_token', 'dist_token') if k in src)
    out, dropped, unknown = {}, [], []
    for key, raw in src.items():
        value = sd[raw]
        if _DROP.match(key):
            dropped.append(raw)
            continue
        for pattern, repl in _RENAMES:
            key = pattern.sub(repl, key)
        if not _KEEP.match(key):
            unknown.append(raw)
            continue
        if key == 'pos_embed':
            if value.ndim == 3:
                value, _ = _pos_embed_grid(value, num_prefix, src_grid)
            if grid_size is not None:
                value = resize_pos_embed_grid(value, tuple(grid_size))
        out[key] = value
    if unknown:
        raise ValueError(f'keys with no ScalableViT counterpart: {unknown[:8]}{" ..." if len(unknown) > 8 else ""}; '
                         f'{EXPECTED}; {ANOTHER_FAMILY}')
    if 'patch_embed.proj.weight' not in out:
        raise ValueError(f'no patch_embed.proj.weight among {sorted(sd)[:8]}: not a ViT checkpoint; {EXPECTED}; '
                         f'{ANOTHER_FAMILY}')
    return out, sorted(dropped)
