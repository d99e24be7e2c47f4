"""Building blocks written once and shared by the backbone families."""
from .dct import dct_2d, dct_2d_channels_last, dct_matrix, heat_diffusion_2d
from .norm import LayerNorm2d

__all__ = ['dct_2d', 'dct_2d_channels_last', 'dct_matrix', 'heat_diffusion_2d', 'LayerNorm2d']
