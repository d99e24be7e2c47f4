"""Data transforms registered in :data:`mmrsfm.registry.TRANSFORMS`."""
from importlib.util import find_spec

from .multimodal import LoadMultiModalImages, PackMultiModalInputs, PairedRandomCropFlip
from .paired_seg import LoadColourCodedAnnotations, LoadStackedModalities
from .sar import SARToDecibels

__all__ = ['LoadMultiModalImages', 'PairedRandomCropFlip', 'PackMultiModalInputs', 'LoadStackedModalities',
           'LoadColourCodedAnnotations', 'SARToDecibels']

# Bi-temporal (change-detection) transforms pack mmseg data samples.
if find_spec('mmseg') is not None:
    from .bitemporal import ApplyPerDate, LoadBiTemporalImages, LoadCDAnnotations, PackCDInputs, RandomRotate90
    __all__ += ['LoadBiTemporalImages', 'LoadCDAnnotations', 'RandomRotate90', 'ApplyPerDate', 'PackCDInputs']
from .multiband import (ApplyToBands, BandChunks, IgnoreNoDataLabels, LoadMultiBandImage, PadBands,  # noqa: E402
                        RandomResizedCrop, SigmaRangeScale)
__all__ += ['LoadMultiBandImage', 'IgnoreNoDataLabels', 'PadBands', 'BandChunks', 'ApplyToBands', 'RandomResizedCrop',
            'SigmaRangeScale']
if find_spec('mmseg') is not None:
    from .multiband import LoadBiTemporalMultiBandImages  # noqa: E402
    __all__ += ['LoadBiTemporalMultiBandImages']
