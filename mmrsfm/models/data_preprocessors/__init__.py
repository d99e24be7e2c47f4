"""Data preprocessors: normalisation and batching of model inputs."""
from importlib.util import find_spec

from .multimodal import MultiModalDataPreprocessor

__all__ = ['MultiModalDataPreprocessor']

# The bi-temporal and multispectral preprocessors extend mmseg's SegDataPreProcessor.
if find_spec('mmseg') is not None:
    from .bitemporal import BiTemporalDataPreprocessor
    from .multispectral import (MultiSpectralBiTemporalDataPreprocessor, MultiSpectralDataPreprocessor,
                                MultiSpectralDataPreProcessor, minmax_per_band)
    __all__ += ['BiTemporalDataPreprocessor', 'MultiSpectralDataPreprocessor', 'MultiSpectralDataPreProcessor',
                'MultiSpectralBiTemporalDataPreprocessor', 'minmax_per_band']
