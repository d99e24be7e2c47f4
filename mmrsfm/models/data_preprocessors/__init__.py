"""Data preprocessors: normalisation and batching of model inputs."""
from importlib.util import find_spec

__all__ = []

# The bi-temporal preprocessor extends mmseg's SegDataPreProcessor.
if find_spec('mmseg') is not None:
    from .bitemporal import BiTemporalDataPreprocessor
    __all__ += ['BiTemporalDataPreprocessor']
if find_spec('mmseg') is not None:
    from .multispectral import MultiSpectralBiTemporalDataPreprocessor, MultiSpectralDataPreProcessor, minmax_per_band
    __all__ += ['MultiSpectralDataPreProcessor', 'MultiSpectralBiTemporalDataPreprocessor', 'minmax_per_band']
