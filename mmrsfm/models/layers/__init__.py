"""Building blocks written once and shared by the backbone families."""
from .attention import Attention, decomposed_rel_pos_bias, resize_rel_pos, window_partition, window_unpartition
from .dct import (BasisCache, dct_2d, dct_2d_channels_last, dct_matrix, frequency_penalty, heat_diffusion_2d,
                  resize_grid, separable_2d_channels_last, separable_2d_channels_last_)
from .mlp import Mlp
from .norm import LayerNorm2d
from .patch_embed import PatchEmbed
from .pos_embed import resize_pos_embed, resize_pos_embed_grid, split_square_pos_embed
from .selective_scan import causal_conv1d, selective_scan, selective_scan_chunked, selective_scan_ref

__all__ = ['Attention', 'decomposed_rel_pos_bias', 'resize_rel_pos', 'window_partition', 'window_unpartition',
           'BasisCache', 'dct_2d', 'dct_2d_channels_last', 'dct_matrix', 'frequency_penalty', 'heat_diffusion_2d',
           'resize_grid', 'separable_2d_channels_last', 'separable_2d_channels_last_', 'Mlp', 'LayerNorm2d',
           'PatchEmbed', 'resize_pos_embed', 'resize_pos_embed_grid', 'split_square_pos_embed',
           'causal_conv1d', 'selective_scan', 'selective_scan_chunked', 'selective_scan_ref']
