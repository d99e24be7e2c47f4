"""Feed-forward block of transformer layers."""
from typing import Optional, Type

import torch
from torch import nn


class Mlp(nn.Module):
    """``fc2(act(fc1(x)))`` on the last axis (Linear -> GELU -> Linear by default).

    Args:
        in_features: Input (and by default output) channels.
        hidden_features: Channels between the two linears.
        out_features: Output channels. Defaults to ``in_features``.
        act_layer: Activation class. Defaults to :class:`torch.nn.GELU`.
        bias: Whether the linears have biases. Defaults to True.
        device: Parameter device (``'meta'`` builds without allocating). Defaults to None.
        dtype: Parameter dtype. Defaults to None.
    """

    def __init__(self,
                 in_features: int,
                 hidden_features: int,
                 out_features: Optional[int] = None,
                 act_layer: Type[nn.Module] = nn.GELU,
                 bias: bool = True,
                 device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.fc1 = nn.Linear(in_features, hidden_features, bias=bias, **factory)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_features, out_features or in_features, bias=bias, **factory)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., in_features) -> (..., out_features)."""
        return self.fc2(self.act(self.fc1(x)))
