"""Model utilities: checkpoint converters (pure functions)."""
from .ckpt_convert import convert_rs_vheat, convert_vheat, load_checkpoint_file, save_converted
from .rs4d_convert import convert_rs4d
from .spectralgpt_convert import convert_spectralgpt
from .vit_convert import convert_vit

__all__ = ['convert_vheat', 'convert_rs_vheat', 'convert_rs4d', 'convert_spectralgpt', 'convert_vit',
           'load_checkpoint_file', 'save_converted']
