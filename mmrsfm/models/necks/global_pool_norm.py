"""Global average pooling followed by a LayerNorm: the classification neck of MAE-style fine-tuning."""
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mmrsfm.registry import MODELS


@MODELS.register_module()
class GlobalPoolNorm(BaseModule):
    """Average every position of the last feature (a (B, C, H, W) map or (B, N, C) tokens), then ``norm``.

    MAE / the billion-scale RS ViT fine-tune with ``global_pool``: mean of the patch tokens, then
    ``fc_norm`` (a LayerNorm), then the linear head. mmpretrain's ``GlobalAveragePooling`` neck has
    no norm; RS-vHeat does not need one (its stage outputs already pass a LayerNorm, ``outnorm3``).

    Args:
        in_channels: Channels C of the pooled feature.
        norm: Apply ``LayerNorm(C)`` after pooling. Defaults to True.
        eps: LayerNorm epsilon. Defaults to 1e-6 (MAE's ``fc_norm``).
        init_cfg: mmengine init config. Defaults to None.
    """

    def __init__(self, in_channels: int, norm: bool = True, eps: float = 1e-6,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.norm = nn.LayerNorm(in_channels, eps=eps) if norm else nn.Identity()

    def forward(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]) -> Tuple[torch.Tensor]:
        """Pool the last of ``inputs``; returns a 1-tuple (B, C), as mmpretrain heads expect."""
        x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if x.dim() == 4:
            channels, pooled = x.shape[1], x.mean(dim=(2, 3))
        elif x.dim() == 3:
            channels, pooled = x.shape[2], x.mean(dim=1)
        else:
            raise ValueError(f'GlobalPoolNorm pools a (B, C, H, W) map or (B, N, C) tokens, got {tuple(x.shape)}')
        if channels != self.in_channels:
            raise ValueError(f'GlobalPoolNorm(in_channels={self.in_channels}) got a feature with {channels} '
                             f'channels; set neck.in_channels to the backbone\'s out_channels[-1]')
        return (self.norm(pooled), )
