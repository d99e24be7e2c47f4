"""``torch.nn.MultiLabelSoftMarginLoss`` behind mmpretrain's loss-call convention."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from mmrsfm.registry import MODELS


@MODELS.register_module()
class MultiLabelSoftMarginLoss(nn.Module):
    """Sigmoid binary cross-entropy averaged over classes, then over images: SpectralGPT's BigEarthNet loss.

    mmpretrain's ``MultiLabelClsHead`` calls its loss with ``avg_factor=batch size``, which turns its
    ``CrossEntropyLoss(use_sigmoid=True)`` into a *sum* over classes (``num_classes`` times this loss);
    with that loss the recipes' learning rates would be off by the class count. This loss ignores
    ``avg_factor`` and always averages over classes and images, as ``torch.nn.MultiLabelSoftMarginLoss``.

    Args:
        loss_weight: Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[int] = None, reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """cls_score: (N, C) logits; label: (N, C) 0/1 (or soft) targets. ``avg_factor`` is ignored (see above)."""
        if cls_score.shape != label.shape:
            raise ValueError(f'MultiLabelSoftMarginLoss: scores {tuple(cls_score.shape)} and targets '
                             f'{tuple(label.shape)} differ; the head must give one-hot (N, num_classes) targets')
        reduction = reduction_override or 'mean'
        loss = F.binary_cross_entropy_with_logits(cls_score, label.float(), reduction='none').mean(dim=1)
        if weight is not None:
            loss = loss * weight.reshape(-1)
        if reduction == 'mean':
            loss = loss.mean()
        elif reduction == 'sum':
            loss = loss.sum()
        return self.loss_weight * loss
