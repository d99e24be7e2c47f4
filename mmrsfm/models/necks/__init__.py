"""Necks: feature transforms between backbones and heads."""
from .bitemporal_fusion import FUSION_CHANNEL_FACTOR, BiTemporalFusion
from .global_pool_norm import GlobalPoolNorm
from .layer_aggregator import LayerAggregator
from .simple_fpn import SimpleFPN

__all__ = ['BiTemporalFusion', 'FUSION_CHANNEL_FACTOR', 'GlobalPoolNorm', 'LayerAggregator', 'SimpleFPN']
