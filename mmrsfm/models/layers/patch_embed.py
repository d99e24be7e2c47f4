"""Patch embedding: a strided convolution from any number of bands to tokens on a 2-D grid."""
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from torch import nn


class PatchEmbed(nn.Module):
    """Non-overlapping ``patch_size`` patches -> ``embed_dim`` tokens, as a (B, H', W', C) grid.

    Inputs whose size is not a multiple of the patch size are zero-padded at the bottom/right
    (``H' = ceil(H / patch)``), or rejected with a clear error when ``pad=False``.

    Args:
        in_channels: Input bands (any number: 1 for SAR, 4 for RGBN, 13 for Sentinel-2, ...).
        embed_dim: Token channels.
        patch_size: Patch height and width (int or pair). Defaults to 16.
        pad: Pad non-divisible inputs instead of raising. Defaults to True.
        bias: Whether the projection has a bias. Defaults to True.
        device: Parameter device (``'meta'`` builds without allocating). Defaults to None.
        dtype: Parameter dtype. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 embed_dim: int,
                 patch_size: Union[int, Tuple[int, int]] = 16,
                 pad: bool = True,
                 bias: bool = True,
                 device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        if in_channels < 1:
            raise ValueError(f'in_channels must be >= 1, got {in_channels}')
        self.in_channels = in_channels
        self.patch_size = (patch_size, patch_size) if isinstance(patch_size, int) else tuple(patch_size)
        self.pad = pad
        self.proj = nn.Conv2d(in_channels, embed_dim, self.patch_size, stride=self.patch_size, bias=bias,
                              device=device, dtype=dtype)

    def grid_size(self, h: int, w: int) -> Tuple[int, int]:
        """Token grid (H', W') for an H x W input."""
        return -(-h // self.patch_size[0]), -(-w // self.patch_size[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, in_channels, H, W) -> (B, ceil(H / p), ceil(W / p), embed_dim)."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'PatchEmbed expects (B, {self.in_channels}, H, W) (in_channels={self.in_channels} '
                             f'bands), got {tuple(x.shape)}')
        h, w = x.shape[-2:]
        pad_h, pad_w = (-h) % self.patch_size[0], (-w) % self.patch_size[1]
        if pad_h or pad_w:
            if not self.pad:
                raise ValueError(f'input size {(h, w)} is not a multiple of patch size {self.patch_size}; '
                                 f'resize or pad it, or build PatchEmbed with pad=True')
            x = F.pad(x, (0, pad_w, 0, pad_h))
        return self.proj(x).permute(0, 2, 3, 1)  # (B, H', W', C)


def adapt_stem_bands(state_dict: dict, key: str, bands: int, owner: str) -> None:
    """Give the checkpoint conv weight ``state_dict[key]``, trained on ``n`` input bands, this model's
    ``bands``: every input channel gets the mean of the ``n`` trained kernels, scaled by ``n / bands``
    so a constant input gives the same response (a common start for multispectral fine-tuning from
    RGB or SAR pretraining). Logged under ``owner``; absent keys and matching counts are left alone."""
    weight = state_dict.get(key)
    if weight is None or weight.dim() != 4 or weight.shape[1] == bands:
        return
    trained = weight.shape[1]
    state_dict[key] = weight.mean(1, keepdim=True).repeat(1, bands, 1, 1) * (trained / bands)
    print_log(f'{owner}: {key} was trained on {trained} bands; adapted to {bands} bands '
              f'(mean kernel x {trained}/{bands} per band)', logger='current')
