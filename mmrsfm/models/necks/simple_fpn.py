"""SimpleFPN: ViTDet's simple feature pyramid from one stride-16 map of a plain ViT.

Written from Li et al., "Exploring Plain Vision Transformer Backbones for Object Detection"
(ECCV 2022), §3: deconvolutions up to strides 8 and 4, the map itself at 16, a max-pool down to 32,
each scale then projected by a 1x1 and a 3x3 convolution with normalisation.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import nn

from mmrsfm.registry import MODELS
from ..layers.norm import LayerNorm2d


@MODELS.register_module()
class SimpleFPN(BaseModule):
    """Multi-scale maps from a single stride-16 map.

    Per scale factor: 4 -> ConvTranspose2d(2, 2), norm, GELU, ConvTranspose2d(2, 2) (C -> C/2 -> C/4);
    2 -> ConvTranspose2d(2, 2) (C -> C/2); 1 -> identity; 0.5 -> MaxPool2d(2, 2, ceil_mode) (so an odd
    map still covers the whole image). Each branch is followed by Conv1x1 + norm and Conv3x3 + norm to
    ``out_channels``. Outputs beyond the scale factors (``num_outs``) are stride-2 max-pools of the
    last one (as mmdet's FPN), e.g. the stride-64 level of RPN heads.

    The output is a tuple of (B, out_channels, h_i, w_i) maps, finest first: what mmdet's RPN / RoI
    heads and mmseg's ``UPerHead(in_channels=[out_channels] * 4)`` expect.

    Args:
        in_channels: Channels of the backbone map (the ViT width).
        out_channels: Channels of every output.
        scale_factors: Scales relative to the input map, each in (4, 2, 1, 0.5). Defaults to
            (4.0, 2.0, 1.0, 0.5), i.e. strides 4, 8, 16, 32 for a stride-16 backbone.
        num_outs: Number of outputs, at least ``len(scale_factors)``. Defaults to None (as many as
            scale factors); 5 adds a stride-64 level.
        norm_cfg: mmcv norm config for every norm; None for a channel LayerNorm
            (:class:`~mmrsfm.models.layers.LayerNorm2d`, as ViTDet). Defaults to None.
        init_cfg: mmengine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 scale_factors: Sequence[float] = (4.0, 2.0, 1.0, 0.5),
                 num_outs: Optional[int] = None,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.scale_factors = tuple(float(s) for s in scale_factors)
        bad = [s for s in self.scale_factors if s not in (4.0, 2.0, 1.0, 0.5)]
        if bad or not self.scale_factors:
            raise ValueError(f'scale_factors must be a non-empty subset of (4, 2, 1, 0.5), got {scale_factors}')
        self.num_outs = len(self.scale_factors) if num_outs is None else num_outs
        if self.num_outs < len(self.scale_factors):
            raise ValueError(f'num_outs={num_outs} < {len(self.scale_factors)} scale factors')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.norm_cfg = dict(type=LayerNorm2d) if norm_cfg is None else dict(norm_cfg)
        self.stages = nn.ModuleList()
        for scale in self.scale_factors:
            resample, dim = self._resample(scale, in_channels)
            self.stages.append(nn.Sequential(
                resample,
                nn.Conv2d(dim, out_channels, 1, bias=False), self._norm(out_channels),
                nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False), self._norm(out_channels)))

    def _norm(self, channels: int) -> nn.Module:
        return build_norm_layer(self.norm_cfg, channels)[1]

    def _resample(self, scale: float, c: int) -> Tuple[nn.Module, int]:
        """The resampling layers for ``scale`` and their output channels."""
        if scale == 4.0:
            return nn.Sequential(nn.ConvTranspose2d(c, c // 2, 2, stride=2), self._norm(c // 2), nn.GELU(),
                                 nn.ConvTranspose2d(c // 2, c // 4, 2, stride=2)), c // 4
        if scale == 2.0:
            return nn.ConvTranspose2d(c, c // 2, 2, stride=2), c // 2
        if scale == 1.0:
            return nn.Identity(), c
        return nn.MaxPool2d(2, stride=2, ceil_mode=True), c

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        """inputs: the backbone's outputs; the last one, (B, in_channels, h, w), is used.

        Returns:
            ``num_outs`` maps (B, out_channels, h * s, w * s) for each scale factor s, then the extra
            max-pooled levels.
        """
        x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if x.shape[1] != self.in_channels:
            raise ValueError(f'SimpleFPN(in_channels={self.in_channels}) got a map with {x.shape[1]} channels')
        outs: List[torch.Tensor] = [stage(x) for stage in self.stages]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
