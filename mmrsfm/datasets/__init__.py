"""Datasets in the real on-disk formats of remote-sensing benchmarks, and generators for them."""
from .image_folder import MultiModalImageFolder

__all__ = ['MultiModalImageFolder']
