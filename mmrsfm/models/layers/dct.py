"""Orthonormal DCT-II and bilinear resizing as dense matrices, and the heat-diffusion step of vHeat.

vHeat's heat conduction operator solves du/dt = k * laplacian(u) with Neumann boundaries in the
cosine basis: U = C_H X C_W^T (2-D DCT-II), U <- U * exp(-k * Omega), Y = C_H^T U C_W (inverse).
Dense matrices, not FFTs: for the grid sizes of a backbone (<= 256 per side) two GEMMs per axis run
on tensor cores in the compute dtype, which beats FFT-based DCTs that need complex arithmetic,
padding and reordering (measured: ``tools/analysis_tools/benchmark_hco.py``); this is also what makes
the operator O(N^1.5) rather than O(N log N).

The matrices are constants. :class:`BasisCache` keeps them as non-persistent buffers (so they follow
``model.to(device)`` and never enter a checkpoint), one per (kind, size, dtype), built once in float64
and cast. Functions take an optional ``cache``; without one they use a module-level cache.
"""
import math
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn


def _dct_basis(n: int) -> torch.Tensor:
    """(n, n) float64 orthonormal DCT-II: ``D[k, x] = s_k cos(pi k (x + 0.5) / n)``."""
    k = torch.arange(n, dtype=torch.float64)[:, None]
    x = torch.arange(n, dtype=torch.float64)[None, :]
    basis = torch.cos(math.pi * k * (x + 0.5) / n) * math.sqrt(2.0 / n)
    basis[0] /= math.sqrt(2.0)
    return basis


def _bilinear_weights(n_out: int, n_in: int) -> torch.Tensor:
    """(n_out, n_in) float64 weights of 1-D linear resampling with ``align_corners=False``.

    Taken from ``F.interpolate`` itself (applied to the identity), so a separable pair of them
    reproduces ``F.interpolate(mode='bilinear', align_corners=False)`` for up- and downsampling.
    """
    eye = torch.eye(n_in, dtype=torch.float64)[None]  # (1, n_in, n_in): n_in signals of length n_in
    return F.interpolate(eye, size=n_out, mode='linear', align_corners=False)[0].t().contiguous()


class BasisCache(nn.Module):
    """Constant DCT and resampling matrices as non-persistent buffers, created on first use.

    One instance is shared by all heat-conduction operators of a backbone, so a 256-point basis is
    stored once whatever the depth. A buffer found on another device (e.g. a functional call on a
    CUDA tensor with the module-level cache) is rebuilt there.
    """

    def _get(self, name: str, build: Callable[[], torch.Tensor], device: Optional[torch.device],
             dtype: torch.dtype) -> torch.Tensor:
        key = f'{name}_{str(dtype).rsplit(".", 1)[-1]}'
        buf = self._buffers.get(key)
        device = torch.device(device) if device is not None else torch.device('cpu')
        if buf is None or buf.device != device or buf.dtype != dtype:  # e.g. after model.double()
            buf = build().to(device=device, dtype=dtype)
            self.register_buffer(key, buf, persistent=False)
        return buf

    def dct(self, n: int, device: Optional[torch.device] = None,
            dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(n, n) orthonormal DCT-II matrix (``D @ D.T == I``, ``D @ v == scipy.fft.dct(v, norm='ortho')``)."""
        return self._get(f'dct{n}', lambda: _dct_basis(n), device, dtype)

    def bilinear(self, n_out: int, n_in: int, device: Optional[torch.device] = None,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(n_out, n_in) linear-resampling matrix (``align_corners=False``)."""
        return self._get(f'lin{n_out}x{n_in}', lambda: _bilinear_weights(n_out, n_in), device, dtype)

    def neg_penalty(self, h: int, w: int, device: Optional[torch.device] = None,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(h, w, 1) ``-frequency_penalty(h, w)``: the heat decay is ``exp(k * this)``, two ops per block
        instead of rebuilding the grid (five more kernels on a GPU) in every operator."""
        return self._get(f'negpen{h}x{w}', lambda: -frequency_penalty(h, w)[..., None], device, dtype)


_DEFAULT_CACHE = BasisCache()


def dct_matrix(n: int, device=None, dtype: torch.dtype = torch.float32,
               cache: Optional[BasisCache] = None) -> torch.Tensor:
    """Orthonormal DCT-II matrix ``D`` (n, n): ``D[k, x] = s_k cos(pi k (x + 0.5) / n)``.

    ``s_0 = sqrt(1/n)``, ``s_k = sqrt(2/n)``, so ``D @ D.T == I`` and ``D @ v`` equals
    ``scipy.fft.dct(v, norm='ortho')``. Cached per (n, device, dtype) in ``cache``.
    """
    return (cache or _DEFAULT_CACHE).dct(n, device, dtype)


def separable_2d_channels_last(x: torch.Tensor, m_h: torch.Tensor, m_w: torch.Tensor) -> torch.Tensor:
    """``M_H X M_W^T`` over the H and W axes of a (B, H, W, C) map; returns (B, H', W', C), contiguous.

    Each axis is one matmul with no permute: along H the map is viewed as (B, H, W*C), along W as
    (B*H', W, C).
    """
    b, h, w, c = x.shape
    u = torch.matmul(m_h, x.reshape(b, h, w * c))  # along H: (B, H', W*C)
    h2, w2 = m_h.shape[0], m_w.shape[0]
    return torch.matmul(m_w, u.reshape(b * h2, w, c)).reshape(b, h2, w2, c)  # along W


def separable_2d_channels_last_(x: torch.Tensor, m_h: torch.Tensor, m_w: torch.Tensor,
                                 chunk_elems: int = 2**21) -> torch.Tensor:
    """In-place ``X <- M_H X M_W^T`` for square M_H, M_W on a contiguous (B, H, W, C) map (no autograd).

    Same result as :func:`separable_2d_channels_last` without a second full-size buffer: along H the
    (H, W*C) matrix of each image is transformed in column blocks, along W the (B*H, W, C) stack in
    row blocks, each block computed into a temporary of about ``chunk_elems`` elements and copied
    back. Used by the low-memory inference path on large grids.
    """
    b, h, w, c = x.shape
    cols = max(1, chunk_elems // h)
    for img in x.view(b, h, w * c):  # along H: column blocks of (H, W*C)
        for j in range(0, w * c, cols):
            img[:, j:j + cols] = torch.matmul(m_h, img[:, j:j + cols])
    rows = max(1, chunk_elems // (w * c))
    stack = x.view(b * h, w, c)
    for i in range(0, b * h, rows):  # along W: row blocks of (B*H, W, C)
        stack[i:i + rows] = torch.matmul(m_w, stack[i:i + rows])
    return x


def dct_2d_channels_last(x: torch.Tensor, inverse: bool = False,
                         cache: Optional[BasisCache] = None) -> torch.Tensor:
    """Orthonormal 2-D DCT-II (or its inverse) over the H and W axes of a (B, H, W, C) map."""
    c_h = dct_matrix(x.shape[1], x.device, x.dtype, cache)
    c_w = dct_matrix(x.shape[2], x.device, x.dtype, cache)
    if inverse:
        c_h, c_w = c_h.t(), c_w.t()
    return separable_2d_channels_last(x, c_h, c_w)


def frequency_penalty(h: int, w: int, device=None) -> torch.Tensor:
    """Omega[n, m] = (pi n / H)^2 + (pi m / W)^2, the Laplacian's eigenvalue of cosine mode (n, m)."""
    wn = torch.linspace(0, math.pi, h + 1, device=device)[:h]
    wm = torch.linspace(0, math.pi, w + 1, device=device)[:w]
    return wn[:, None]**2 + wm[None, :]**2


def heat_diffusion_2d(x: torch.Tensor, decay: torch.Tensor, cache: Optional[BasisCache] = None) -> torch.Tensor:
    """``IDCT2(DCT2(x) * decay)`` over the H and W axes of a channels-last map.

    Args:
        x: (B, H, W, C) map.
        decay: (H, W, C) per-frequency, per-channel factors ``exp(-k * Omega)``.
        cache: Where the DCT bases live (e.g. the backbone's); the module-level cache if None.

    Returns:
        (B, H, W, C), same dtype as ``x``.
    """
    u = dct_2d_channels_last(x, cache=cache)
    # In place when no graph is recorded: saves one (B, H, W, C) buffer at inference.
    u = u * decay.to(x.dtype) if torch.is_grad_enabled() else u.mul_(decay.to(x.dtype))
    return dct_2d_channels_last(u, inverse=True, cache=cache)


def resize_grid(embed: torch.Tensor, size, cache: Optional[BasisCache] = None) -> torch.Tensor:
    """Bilinearly resize an (H, W, C) per-position embedding to ``size`` (identity when equal).

    Equal to ``F.interpolate(mode='bilinear', align_corners=False)`` on the NCHW view, computed as two
    cached-matrix GEMMs on the channels-last layout: no permute copies and a contiguous result, about
    10x faster than interpolate on a permuted view on CPU. Used for the FVE (indexed by normalised
    frequency n/H, so resizing keeps each value at the same physical frequency) and the SCE (indexed
    by normalised position).
    """
    h, w = int(size[0]), int(size[1])
    if tuple(embed.shape[:2]) == (h, w):
        return embed
    cache = cache or _DEFAULT_CACHE
    m_h = cache.bilinear(h, embed.shape[0], embed.device, embed.dtype)
    m_w = cache.bilinear(w, embed.shape[1], embed.device, embed.dtype)
    return separable_2d_channels_last(embed[None], m_h, m_w)[0]


def dct_2d(x: torch.Tensor, inverse: bool = False, cache: Optional[BasisCache] = None) -> torch.Tensor:
    """Orthonormal 2-D DCT-II (or its inverse) over the last two axes of (..., H, W)."""
    c_h = dct_matrix(x.shape[-2], x.device, x.dtype, cache)
    c_w = dct_matrix(x.shape[-1], x.device, x.dtype, cache)
    if inverse:
        return torch.matmul(torch.matmul(c_h.t(), x), c_w)
    return torch.matmul(torch.matmul(c_h, x), c_w.t())
