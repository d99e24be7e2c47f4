"""Absolute 2-D position embeddings: bicubic resizing to other token grids."""
import math
from typing import Tuple

import torch
import torch.nn.functional as F


def resize_pos_embed_grid(pos_embed: torch.Tensor, size: Tuple[int, int],
                          mode: str = 'bicubic') -> torch.Tensor:
    """Resize a grid-shaped position embedding.

    Interpolation runs in float32 (CPU bicubic has no half-precision kernel) and the result is cast
    back, so the same function serves checkpoint loading and bf16/fp16 forwards.

    Args:
        pos_embed: (1, h, w, C).
        size: Target grid (H, W).
        mode: ``F.interpolate`` mode. Defaults to 'bicubic'.

    Returns:
        (1, H, W, C); ``pos_embed`` itself when the grid already matches.
    """
    if tuple(pos_embed.shape[1:3]) == tuple(size):
        return pos_embed
    x = pos_embed.permute(0, 3, 1, 2).float()  # (1, C, h, w)
    x = F.interpolate(x, size=tuple(size), mode=mode, align_corners=False)
    return x.permute(0, 2, 3, 1).to(pos_embed.dtype)  # (1, H, W, C)


def resize_pos_embed(pos_embed: torch.Tensor, src_size: Tuple[int, int], dst_size: Tuple[int, int],
                     num_extra_tokens: int = 0, mode: str = 'bicubic') -> torch.Tensor:
    """Resize a flat position embedding (MAE / timm layout), keeping leading extra tokens (cls) as is.

    Args:
        pos_embed: (1, num_extra_tokens + h * w, C).
        src_size: Its grid (h, w).
        dst_size: Target grid (H, W).
        num_extra_tokens: Leading tokens that are not on the grid (1 for a cls token). Defaults to 0.
        mode: ``F.interpolate`` mode. Defaults to 'bicubic'.

    Returns:
        (1, num_extra_tokens + H * W, C).
    """
    h, w = src_size
    if pos_embed.shape[1] != num_extra_tokens + h * w:
        raise ValueError(f'pos_embed has {pos_embed.shape[1]} tokens, expected {num_extra_tokens} extra + '
                         f'{h}x{w} grid')
    extra, grid = pos_embed[:, :num_extra_tokens], pos_embed[:, num_extra_tokens:]
    grid = resize_pos_embed_grid(grid.reshape(1, h, w, -1), dst_size, mode)  # (1, H, W, C)
    return torch.cat([extra, grid.flatten(1, 2)], dim=1)


def split_square_pos_embed(pos_embed: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Split a flat (1, N, C) embedding of a *square* grid into (extra tokens, (1, g, g, C) grid).

    ``N`` is taken as ``g * g`` when it is a square, else as ``1 + g * g`` (a leading cls token);
    anything else raises, since a non-square flat grid cannot be recovered from its length.
    """
    n = pos_embed.shape[1]
    for extra in (0, 1):
        g = math.isqrt(n - extra)
        if g * g == n - extra:
            return pos_embed[:, :extra], pos_embed[:, extra:].reshape(1, g, g, -1)
    raise ValueError(f'cannot infer a square grid from a flat pos_embed of {n} tokens (with or without a cls '
                     f'token); convert it to the (1, H, W, C) layout first')


def resize_flat_square_pos_embed(pos_embed: torch.Tensor, size: Tuple[int, int],
                                 name: str = 'pos_embed') -> Tuple[torch.Tensor, Tuple[int, int]]:
    """Resize a flat (1, g * g, C) embedding of a square grid without cls token (RS4D's layout) to the
    flat (1, H * W, C) embedding of grid ``size``.

    Returns:
        (resized embedding, the source grid (g, g)).

    Raises:
        ValueError: when the embedding has a leading cls entry (``name`` is used in the message).
    """
    extra, grid = split_square_pos_embed(pos_embed)
    if extra.shape[1]:
        raise ValueError(f'{name} has {extra.shape[1]} leading (cls-token) entries, but this layout has none; '
                         f'strip them before resizing (or resize with resize_pos_embed, which keeps them)')
    return resize_pos_embed_grid(grid, size).flatten(1, 2), tuple(grid.shape[1:3])
