"""Task heads: SAM's mask decoder and, with mmdet installed, the prompt-based instance-mask head."""
from importlib.util import find_spec

from .sam_mask_decoder import SamMaskDecoder, SamPositionalEmbedding, SamTwoWayTransformer

__all__ = ['SamMaskDecoder', 'SamPositionalEmbedding', 'SamTwoWayTransformer']

if find_spec('mmdet') is not None:  # mmdet is an optional dependency (as for the COCO datasets)
    from .prompt_mask_head import PromptMaskHead
    from .prompt_roi_head import PromptRoIHead
    __all__ += ['PromptMaskHead', 'PromptRoIHead']
