"""Segmentors built on mmseg's (change detection)."""
from importlib.util import find_spec

__all__ = []

if find_spec('mmseg') is not None:
    from .siamese_encoder_decoder import SiameseEncoderDecoder
    __all__ += ['SiameseEncoderDecoder']
