"""Model utilities: checkpoint converters (pure functions)."""
from .ckpt_convert import convert_rs_vheat, convert_vheat

__all__ = ['convert_vheat', 'convert_rs_vheat']
