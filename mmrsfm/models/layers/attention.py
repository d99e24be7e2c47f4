"""Multi-head self-attention on a 2-D token grid, global or windowed, with optional decomposed
relative position bias.

Written from the ViTDet paper (Li et al., "Exploring Plain Vision Transformer Backbones for Object
Detection", ECCV 2022: window attention in most blocks, a few global blocks, decomposed relative
positions) and MViTv2 (Li et al., CVPR 2022: the decomposed bias ``q . R_h + q . R_w``). The
attention itself is :func:`torch.nn.functional.scaled_dot_product_attention`, so fused kernels are
used wherever the device has them.

Unlike ViTDet, tokens padded to fill the last windows of a non-divisible grid are masked out as
keys, so a window that covers the whole grid gives exactly global attention and padding never
changes real tokens' outputs.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn


def window_partition(x: torch.Tensor, window_size: int) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """Split a grid into non-overlapping windows, zero-padding the bottom/right to a multiple.

    Args:
        x: (B, H, W, C).
        window_size: Window side.

    Returns:
        windows (B * nH * nW, window_size, window_size, C), batch-major, and the padded grid (Hp, Wp).
    """
    b, h, w, c = x.shape
    pad_h, pad_w = (-h) % window_size, (-w) % window_size
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    hp, wp = h + pad_h, w + pad_w
    x = x.view(b, hp // window_size, window_size, wp // window_size, window_size, c)
    windows = x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window_size, window_size, c)
    return windows, (hp, wp)


def window_unpartition(windows: torch.Tensor, window_size: int, padded_size: Tuple[int, int],
                       size: Tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`window_partition`: windows (B * nH * nW, ws, ws, C) -> (B, H, W, C), padding dropped."""
    hp, wp = padded_size
    n_h, n_w = hp // window_size, wp // window_size
    b = windows.shape[0] // (n_h * n_w)
    x = windows.view(b, n_h, n_w, window_size, window_size, -1).permute(0, 1, 3, 2, 4, 5)
    x = x.reshape(b, hp, wp, -1)  # (B, Hp, Wp, C)
    if (hp, wp) != tuple(size):
        x = x[:, :size[0], :size[1]].contiguous()
    return x


def window_valid_mask(size: Tuple[int, int], window_size: int, device: torch.device) -> torch.Tensor:
    """(nH * nW, ws * ws) bool: which positions of each window are real tokens (not padding)."""
    h, w = size
    valid = torch.ones(1, h, w, 1, dtype=torch.bool, device=device)
    windows, _ = window_partition(valid, window_size)  # padding is zero -> False
    return windows.flatten(1)


def resize_rel_pos(table: torch.Tensor, length: int) -> torch.Tensor:
    """Linearly resample a relative position table (L, C) to (length, C), e.g. for another window
    or grid size (2 * size - 1 offsets). Runs in float32, returns the input dtype."""
    if table.shape[0] == length:
        return table
    x = F.interpolate(table.t()[None].float(), size=length, mode='linear', align_corners=False)  # (1, C, length)
    return x[0].t().to(table.dtype)


def rel_pos_lookup(table: torch.Tensor, size: int) -> torch.Tensor:
    """Embeddings of all query-key offsets along one axis of length ``size``.

    Args:
        table: (L, C) embeddings of offsets ``-(L // 2) .. L // 2``; resampled when ``L != 2 * size - 1``.
        size: Axis length (queries and keys share it: self-attention).

    Returns:
        (size, size, C), entry ``[i, j]`` for offset ``i - j``.
    """
    table = resize_rel_pos(table, 2 * size - 1)
    pos = torch.arange(size, device=table.device)
    return table[pos[:, None] - pos[None, :] + size - 1]


def decomposed_rel_pos_bias(q: torch.Tensor, rel_pos_h: torch.Tensor, rel_pos_w: torch.Tensor,
                            size: Tuple[int, int]) -> torch.Tensor:
    """Attention bias ``b[(i, j), (k, l)] = q_ij . R_h[i - k] + q_ij . R_w[j - l]`` (MViTv2).

    Args:
        q: (B, heads, H * W, C) unscaled queries.
        rel_pos_h: (Lh, C) table of vertical offsets.
        rel_pos_w: (Lw, C) table of horizontal offsets.
        size: The grid (H, W) of queries and keys.

    Returns:
        (B, heads, H * W, H * W), in q's dtype.
    """
    h, w = size
    b, n, _, c = q.shape
    r_q = q.reshape(b, n, h, w, c)
    r_h = rel_pos_lookup(rel_pos_h, h).to(q.dtype)  # (H, H, C)
    r_w = rel_pos_lookup(rel_pos_w, w).to(q.dtype)  # (W, W, C)
    bias_h = torch.einsum('bnhwc,hkc->bnhwk', r_q, r_h)  # (B, heads, H, W, H_k)
    bias_w = torch.einsum('bnhwc,wkc->bnhwk', r_q, r_w)  # (B, heads, H, W, W_k)
    bias = bias_h[..., :, None] + bias_w[..., None, :]  # (B, heads, H, W, H_k, W_k)
    return bias.reshape(b, n, h * w, h * w)


class Attention(nn.Module):
    """Multi-head self-attention over a (B, H, W, C) grid; windowed when ``window_size > 0``.

    Parameter names (``qkv``, ``proj``, ``rel_pos_h``, ``rel_pos_w``) follow the common ViT / ViTDet
    layout, so MAE-style checkpoints map onto it by prefix only.

    Args:
        dim: Token channels.
        num_heads: Attention heads (must divide ``dim``).
        qkv_bias: Whether the fused qkv linear has a bias. Defaults to True.
        window_size: Attend within non-overlapping ``window_size``-square windows (grids that are not
            a multiple are padded, and the padding masked out); 0 for global attention. Defaults to 0.
        use_rel_pos: Add a decomposed relative position bias. Defaults to False.
        rel_pos_size: Grid (H, W) the global bias tables are made for (``2 * H - 1`` and ``2 * W - 1``
            offsets); other grids resample them. Ignored for windowed attention, whose tables cover
            ``2 * window_size - 1`` offsets. Required when ``use_rel_pos`` and ``window_size == 0``.
        device: Parameter device (``'meta'`` builds without allocating). Defaults to None.
        dtype: Parameter dtype. Defaults to None.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 qkv_bias: bool = True,
                 window_size: int = 0,
                 use_rel_pos: bool = False,
                 rel_pos_size: Optional[Tuple[int, int]] = None,
                 device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'num_heads={num_heads} must divide dim={dim}')
        factory = dict(device=device, dtype=dtype)
        self.num_heads, self.head_dim, self.window_size = num_heads, dim // num_heads, window_size
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias, **factory)
        self.proj = nn.Linear(dim, dim, **factory)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            if window_size > 0:
                rel_pos_size = (window_size, window_size)
            elif rel_pos_size is None:
                raise ValueError('global attention with use_rel_pos needs rel_pos_size=(H, W), the token grid')
            # Zero init: the block starts as plain attention (as ViTDet's default).
            self.rel_pos_h = nn.Parameter(torch.zeros(2 * rel_pos_size[0] - 1, self.head_dim, **factory))
            self.rel_pos_w = nn.Parameter(torch.zeros(2 * rel_pos_size[1] - 1, self.head_dim, **factory))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, H, W, C) -> (B, H, W, C)."""
        if self.window_size <= 0:
            return self._attend(x)
        b, h, w, _ = x.shape
        windows, padded = window_partition(x, self.window_size)  # (B * nW, ws, ws, C)
        key_valid = None
        if padded != (h, w):
            key_valid = window_valid_mask((h, w), self.window_size, x.device).repeat(b, 1)  # (B * nW, ws * ws)
        windows = self._attend(windows, key_valid)
        return window_unpartition(windows, self.window_size, padded, (h, w))

    def _attend(self, x: torch.Tensor, key_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Global attention within each grid of x: (B', h, w, C) -> (B', h, w, C).

        ``key_valid`` (B', h * w) bool marks the keys that may be attended to (None: all).
        """
        b, h, w, c = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B', heads, N, head_dim)
        mask = None if key_valid is None else key_valid[:, None, None, :]  # (B', 1, 1, N)
        if self.use_rel_pos:
            bias = decomposed_rel_pos_bias(q, self.rel_pos_h, self.rel_pos_w, (h, w))  # (B', heads, N, N)
            mask = bias if mask is None else bias.masked_fill(~mask, float('-inf'))
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B', heads, N, head_dim)
        x = x.transpose(1, 2).reshape(b, h, w, c)
        return self.proj(x)


class SplitQKVAttention(nn.Module):
    """Global multi-head self-attention over a (B, N, C) token sequence with *separate* ``q``, ``k``
    and ``v`` linears (the layout of video/spectral MAE checkpoints such as SpectralGPT's), computed
    with :func:`torch.nn.functional.scaled_dot_product_attention`.

    Args:
        dim: Token channels.
        num_heads: Attention heads (must divide ``dim``).
        qkv_bias: Whether the q/k/v linears have biases. Defaults to True.
        device: Parameter device (``'meta'`` builds without allocating). Defaults to None.
        dtype: Parameter dtype. Defaults to None.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 qkv_bias: bool = True,
                 device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'num_heads={num_heads} must divide dim={dim}')
        factory = dict(device=device, dtype=dtype)
        self.num_heads, self.head_dim = num_heads, dim // num_heads
        self.q = nn.Linear(dim, dim, bias=qkv_bias, **factory)
        self.k = nn.Linear(dim, dim, bias=qkv_bias, **factory)
        self.v = nn.Linear(dim, dim, bias=qkv_bias, **factory)
        self.proj = nn.Linear(dim, dim, **factory)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, N, C) -> (B, N, C)."""
        b, n, c = x.shape
        q, k, v = (lin(x).view(b, n, self.num_heads, self.head_dim).transpose(1, 2)
                   for lin in (self.q, self.k, self.v))  # each (B, heads, N, head_dim)
        x = F.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(b, n, c))
