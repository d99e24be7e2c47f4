"""Data transforms registered in :data:`mmrsfm.registry.TRANSFORMS`."""
from .multimodal import LoadMultiModalImages, PackMultiModalInputs, PairedRandomCropFlip

__all__ = ['LoadMultiModalImages', 'PairedRandomCropFlip', 'PackMultiModalInputs']
