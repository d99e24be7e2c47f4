"""Necks: feature transforms between backbones and heads."""
from .bitemporal_fusion import FUSION_CHANNEL_FACTOR, BiTemporalFusion

__all__ = ['BiTemporalFusion', 'FUSION_CHANNEL_FACTOR']
