"""Model utilities: checkpoint converters (pure functions)."""
from .ckpt_convert import convert_rs_vheat, convert_vheat
from .spectralgpt_convert import convert_spectralgpt
from .vit_convert import convert_vit

__all__ = ['convert_vheat', 'convert_rs_vheat', 'convert_spectralgpt', 'convert_vit']
