"""Per-image band normalisation shared by the multispectral data preprocessors and pretrainers."""
import torch


def minmax_per_band(x: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """Scale each band of a (..., C, H, W) tensor to [0, 1] by its own min and max over H, W.

    As SpectralGPT's loaders do (``(img - min) / (max - min + 1e-9)``); a constant band becomes 0.
    """
    low = x.amin(dim=(-2, -1), keepdim=True)
    high = x.amax(dim=(-2, -1), keepdim=True)
    return (x - low) / (high - low + eps)
