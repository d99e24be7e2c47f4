"""LayerAggregator: one stride-16 map from many same-resolution layer outputs (RS4D's ``RSFeatureAggregator``).

Written from the behaviour of the official RS4D neck (``QinzheYang/RS4D``, ``mmdet/rs4d/models.py``,
class ``RSFeatureAggregator``), which RSPrompter introduced for SAM's ViT layers. The module names
(``downconvs``, ``hidden_convs``, ``fusion_conv``) and their layer order are the official ones, so the
official neck weights (``neck.feature_aggregator.*``) load after stripping that prefix. Follow it with
:class:`~mmrsfm.models.necks.SimpleFPN` (``in_channels=out_channels``, ``num_outs=5``) for the 5-level
stride 4-64 pyramid of RS4D's ``RSSimpleFPN``.
"""
from typing import List, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mmrsfm.registry import MODELS


def _conv_bn_relu(cin: int, cout: int, k: int) -> List[nn.Module]:
    return [nn.Conv2d(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


@MODELS.register_module()
class LayerAggregator(BaseModule):
    """Fuse selected layer outputs of a single-scale backbone into one map.

    Each selected input goes through a 1x1 conv-BN-ReLU to ``hidden_channels`` and a 3x3 conv-BN-ReLU
    (``downconvs``); the results are fused cumulatively, ``s_0 = f_0``, ``s_k = (x_{k-1} + f_k)``,
    ``x_k = s_k + hidden_convs[k](s_k)`` (a 3x3 conv-BN-ReLU residual); then ``fusion_conv`` (1x1
    conv-BN-ReLU to ``out_channels``, 3x3 conv-BN-ReLU, 3x3 conv) gives the output.

    Args:
        in_channels: Channels of the backbone outputs: one int for all, or one per output position.
        layer_indices: Positions in the backbone's output tuple to fuse, in fusion order (negative counts
            from the end). With :class:`~mmrsfm.models.backbones.RSMamba`'s default (every layer returned),
            positions are layer indices: RS4D uses every other layer, e.g. ``range(1, 24, 2)`` for base.
        hidden_channels: Channels of the per-layer branches. Defaults to 32.
        out_channels: Output channels. Defaults to 256.
        init_cfg: mmengine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 layer_indices: Sequence[int],
                 hidden_channels: int = 32,
                 out_channels: int = 256,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.layer_indices = tuple(int(i) for i in layer_indices)
        if not self.layer_indices:
            raise ValueError('layer_indices is empty')
        if isinstance(in_channels, int):
            channels = [in_channels] * len(self.layer_indices)
        else:
            self.in_channels_list = list(in_channels)
            try:
                channels = [self.in_channels_list[i] for i in self.layer_indices]
            except IndexError:
                raise ValueError(f'layer_indices {self.layer_indices} out of range for {len(in_channels)} '
                                 f'in_channels') from None
        self.in_channels, self.out_channels = in_channels, out_channels
        self.downconvs = nn.ModuleList([
            nn.Sequential(*_conv_bn_relu(c, hidden_channels, 1), *_conv_bn_relu(hidden_channels, hidden_channels, 3))
            for c in channels
        ])
        self.hidden_convs = nn.ModuleList(
            [nn.Sequential(*_conv_bn_relu(hidden_channels, hidden_channels, 3)) for _ in channels])
        self.fusion_conv = nn.Sequential(*_conv_bn_relu(hidden_channels, out_channels, 1),
                                         *_conv_bn_relu(out_channels, out_channels, 3),
                                         nn.Conv2d(out_channels, out_channels, 3, padding=1))

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """inputs: the backbone's (B, C_i, h, w) maps. Returns a 1-tuple (B, out_channels, h, w)."""
        n = len(inputs)
        if any(not -n <= i < n for i in self.layer_indices):
            raise ValueError(f'LayerAggregator(layer_indices={self.layer_indices}) got {n} inputs')
        x = None
        for k, i in enumerate(self.layer_indices):
            s = self.downconvs[k](inputs[i])
            if x is not None:
                s = x + s
            x = s + self.hidden_convs[k](s)
        return (self.fusion_conv(x), )
