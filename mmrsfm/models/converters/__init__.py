"""Official checkpoints -> mmrsfm state dicts: one module and one ``convert_<family>`` per family, plus
the shared checkpoint I/O.

Every converter has the same contract: ``convert_<family>(ckpt, **options) -> (state_dict, dropped)``,
``ckpt`` being the loaded checkpoint and ``dropped`` the sorted source keys left out on purpose
(classifier heads, decoders, pretraining-only modules); a checkpoint of another layout raises
``KeyError`` / ``ValueError`` naming the layout expected. CLI wrappers (which print what was dropped):
``tools/model_converters/<family>2mmrsfm.py``.
"""
from .checkpoint_io import (ConversionResult, load_checkpoint_file, save_converted, strip_prefixes, summarize_keys,
                            unwrap_state_dict)
from .rs4d import convert_rs4d
from .rs_vheat import convert_rs_vheat
from .sam import convert_sam_decoder, convert_sam_image_encoder
from .scalable_vit import convert_scalable_vit
from .spectralgpt import convert_spectralgpt

__all__ = ['convert_rs_vheat', 'convert_rs4d', 'convert_sam_decoder', 'convert_sam_image_encoder',
           'convert_scalable_vit', 'convert_spectralgpt', 'ConversionResult', 'load_checkpoint_file', 'save_converted',
           'strip_prefixes', 'summarize_keys', 'unwrap_state_dict']
