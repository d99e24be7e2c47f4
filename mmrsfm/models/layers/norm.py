"""Normalisation layers for channels-first maps."""
import torch
import torch.nn.functional as F
from torch import nn


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channel dimension of a (B, C, H, W) map (weights shaped like LayerNorm(C))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.channels_last(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    def channels_last(self, x: torch.Tensor) -> torch.Tensor:
        """The same normalisation for a (B, H, W, C) map (no permutes)."""
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
