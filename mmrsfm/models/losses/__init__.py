"""Losses not provided by the OpenMMLab toolboxes."""
from .multilabel_soft_margin import MultiLabelSoftMarginLoss

__all__ = ['MultiLabelSoftMarginLoss']
