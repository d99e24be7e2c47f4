"""Building blocks written once and shared by the backbone families."""
from .dct import (BasisCache, dct_2d, dct_2d_channels_last, dct_matrix, heat_diffusion_2d, heat_diffusion_2d_,
                  resize_grid, separable_2d_channels_last, separable_2d_channels_last_)
from .norm import LayerNorm2d

__all__ = ['BasisCache', 'dct_2d', 'dct_2d_channels_last', 'dct_matrix', 'heat_diffusion_2d', 'heat_diffusion_2d_',
           'resize_grid', 'separable_2d_channels_last', 'separable_2d_channels_last_', 'LayerNorm2d']
