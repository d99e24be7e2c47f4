"""Necks: feature transforms between backbones and heads."""
from .bitemporal_fusion import FUSION_CHANNEL_FACTOR, BiTemporalFusion
from .layer_aggregator import LayerAggregator
from .simple_fpn import SimpleFPN

__all__ = ['BiTemporalFusion', 'FUSION_CHANNEL_FACTOR', 'LayerAggregator', 'SimpleFPN']
