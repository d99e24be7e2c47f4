"""Per-scale fusion of the two dates' features for Siamese change detection."""
from typing import List, Optional, Sequence, Tuple

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import nn

from mmrsfm.registry import MODELS

#: Channel multiplier of each fusion mode (fused channels = multiplier x per-date channels).
FUSION_CHANNEL_FACTOR = dict(diff=1, concat=2, both=3)


@MODELS.register_module()
class BiTemporalFusion(BaseModule):
    """Fuse date-A and date-B feature maps scale by scale.

    Modes (C = channels of one date at that scale):

    - ``'diff'``: ``|fA - fB|``, C channels; symmetric in the dates, so it cannot tell construction
      from demolition, which binary CD does not need to;
    - ``'concat'``: ``[fA; fB]``, 2C channels; keeps the direction of change (semantic CD);
    - ``'both'``: ``[|fA - fB|; fA; fB]``, 3C channels.

    With ``out_channels``, a 1x1 ConvModule per scale projects the fused map to a fixed width, so the
    decode head's ``in_channels`` stay the same whichever mode is chosen.

    Args:
        mode: ``'diff'``, ``'concat'`` or ``'both'``. Defaults to ``'diff'``.
        in_channels: Per-date channels of each scale; required with ``out_channels``. Defaults to None.
        out_channels: Channels after projection, one per scale. Defaults to None (no projection).
        norm_cfg: Norm of the projections. Defaults to ``dict(type='BN')``.
        act_cfg: Activation of the projections. Defaults to ``dict(type='ReLU')``.
        init_cfg: Initialisation config. Defaults to None.
    """

    def __init__(self,
                 mode: str = 'diff',
                 in_channels: Optional[Sequence[int]] = None,
                 out_channels: Optional[Sequence[int]] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in FUSION_CHANNEL_FACTOR:
            raise ValueError(f"fusion mode '{mode}' is not one of {sorted(FUSION_CHANNEL_FACTOR)}")
        self.mode = mode
        self.projections: Optional[nn.ModuleList] = None
        if out_channels is not None:
            if in_channels is None or len(in_channels) != len(out_channels):
                raise ValueError(f'out_channels={out_channels} needs in_channels with one value per scale, '
                                 f'got {in_channels}')
            factor = FUSION_CHANNEL_FACTOR[mode]
            self.projections = nn.ModuleList(
                ConvModule(factor * c_in, c_out, 1, norm_cfg=norm_cfg or dict(type='BN'),
                           act_cfg=act_cfg or dict(type='ReLU'))
                for c_in, c_out in zip(in_channels, out_channels))

    def extra_repr(self) -> str:
        return f"mode='{self.mode}'"

    def fused_channels(self, channels: int) -> int:
        """Channels of the fused map of a scale whose per-date features have ``channels``."""
        return FUSION_CHANNEL_FACTOR[self.mode] * channels

    def forward(self, feats_a: Sequence[torch.Tensor], feats_b: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Fuse each scale: (B, C, h, w) x 2 -> (B, k*C, h, w), k = 1/2/3, or ``out_channels``."""
        if len(feats_a) != len(feats_b):
            raise ValueError(f'dates have {len(feats_a)} vs {len(feats_b)} feature scales')
        if self.projections is not None and len(feats_a) != len(self.projections):
            raise ValueError(f'fusion in_channels/out_channels name {len(self.projections)} scales but the '
                             f'backbone (or neck) returns {len(feats_a)}')
        fused: List[torch.Tensor] = []
        for i, (fa, fb) in enumerate(zip(feats_a, feats_b)):
            if self.mode == 'diff':
                x = (fa - fb).abs()
            elif self.mode == 'concat':
                x = torch.cat([fa, fb], dim=1)
            else:
                x = torch.cat([(fa - fb).abs(), fa, fb], dim=1)
            fused.append(x if self.projections is None else self.projections[i](x))
        return tuple(fused)
