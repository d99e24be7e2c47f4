"""Orthonormal DCT-II as dense matrices, and the heat-diffusion step of the vHeat operator.

vHeat's heat conduction operator solves du/dt = k * laplacian(u) with Neumann boundaries in the
cosine basis: U = C_H X C_W^T (2-D DCT-II), U <- U * exp(-k * Omega), Y = C_H^T U C_W (inverse).
Dense matrices, not FFTs: for the grid sizes of a backbone (<= 256 per side) two GEMMs per axis run
on tensor cores in the compute dtype, which beats FFT-based DCTs that need complex arithmetic,
padding and reordering; this is also what makes the operator O(N^1.5) rather than O(N log N).
"""
import math
from typing import Dict, Tuple

import torch

_BASES: Dict[Tuple[int, torch.device, torch.dtype], torch.Tensor] = {}


def dct_matrix(n: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Orthonormal DCT-II matrix ``D`` (n, n): ``D[k, x] = s_k cos(pi k (x + 0.5) / n)``.

    ``s_0 = sqrt(1/n)``, ``s_k = sqrt(2/n)``, so ``D @ D.T == I`` and ``D @ v`` equals
    ``scipy.fft.dct(v, norm='ortho')``. Cached per (n, device, dtype): the basis never changes, so it is
    built once (in float64, then cast) and shared by every block that sees an axis of that length.
    """
    device = torch.device(device) if device is not None else torch.device('cpu')
    key = (n, device, dtype)
    basis = _BASES.get(key)
    if basis is None:
        k = torch.arange(n, dtype=torch.float64)[:, None]
        x = torch.arange(n, dtype=torch.float64)[None, :]
        basis = torch.cos(math.pi * k * (x + 0.5) / n) * math.sqrt(2.0 / n)
        basis[0] /= math.sqrt(2.0)
        basis = basis.to(device=device, dtype=dtype)
        _BASES[key] = basis
    return basis


def dct_2d_channels_last(x: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    """Orthonormal 2-D DCT-II (or its inverse) over the H and W axes of a (B, H, W, C) map.

    Each axis transform is one matmul with no permute: along H the map is viewed as (B, H, W*C),
    along W as (B*H, W, C).
    """
    b, h, w, c = x.shape
    c_h = dct_matrix(h, x.device, x.dtype)
    c_w = dct_matrix(w, x.device, x.dtype)
    if inverse:
        c_h, c_w = c_h.t(), c_w.t()
    u = torch.matmul(c_h, x.reshape(b, h, w * c))  # along H: (B, H, W*C)
    return torch.matmul(c_w, u.reshape(b * h, w, c)).reshape(b, h, w, c)  # along W


def heat_diffusion_2d(x: torch.Tensor, decay: torch.Tensor) -> torch.Tensor:
    """``IDCT2(DCT2(x) * decay)`` over the H and W axes of a channels-last map.

    Args:
        x: (B, H, W, C) map.
        decay: (H, W, C) per-frequency, per-channel factors ``exp(-k * Omega)``.

    Returns:
        (B, H, W, C), same dtype as ``x``.
    """
    return dct_2d_channels_last(dct_2d_channels_last(x) * decay.to(x.dtype), inverse=True)


def dct_2d(x: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    """Orthonormal 2-D DCT-II (or its inverse) over the last two axes of (..., H, W)."""
    c_h = dct_matrix(x.shape[-2], x.device, x.dtype)
    c_w = dct_matrix(x.shape[-1], x.device, x.dtype)
    if inverse:
        return torch.matmul(torch.matmul(c_h.t(), x), c_w)
    return torch.matmul(torch.matmul(c_h, x), c_w.t())
