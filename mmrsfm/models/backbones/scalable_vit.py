"""ScalableViT: plain ViT backbones from 86 M to 2.4 B parameters for dense remote-sensing tasks.

Sizes follow "A Billion-scale Foundation Model for Remote Sensing Images" (Cha et al., arXiv
2304.05215: 86 M, 605.26 M, 1.3 B and 2.4 B parameters, MAE-pretrained, ViTDet-style fine-tuning).
The paper does not publish widths, depths or heads (and no code or weights were released), so the
:attr:`ScalableViT.arch_zoo` entries are our choices from the ViT scaling literature, picked to hit
the published counts; they are not the paper's (unreleased) models.

The dense-prediction design is ViTDet's (Li et al., ECCV 2022): window attention in most blocks, a
few evenly spaced global blocks, optional decomposed relative position bias, a single stride-16 map
for a simple feature pyramid (:class:`~mmrsfm.models.necks.SimpleFPN`). Written from the papers;
the layers live in :mod:`mmrsfm.models.layers`.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch import nn

from mmrsfm.registry import MODELS
from ..layers.attention import Attention, resize_rel_pos
from ..layers.mlp import Mlp
from ..layers.patch_embed import PatchEmbed
from ..layers.pos_embed import resize_pos_embed_grid, split_square_pos_embed
from ..utils.arch import loads_pretrained, parse_arch, pretrained_to_init_cfg
from ..utils.layerwise import check_out_indices, columnar_layer_depth, freeze


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``, each with optional layer
    scale and drop path, on a (B, H, W, C) grid.

    Args:
        dim: Token channels.
        num_heads: Attention heads.
        feedforward_channels: MLP hidden channels.
        window_size: Window side of the attention; 0 for global attention. Defaults to 0.
        use_rel_pos: Decomposed relative position bias. Defaults to False.
        rel_pos_size: Token grid the global bias tables are made for. Defaults to None.
        qkv_bias: Bias of the qkv linear. Defaults to True.
        drop_path: Stochastic depth rate. Defaults to 0.
        layer_scale_init_value: Initial per-channel residual scale; None for no layer scale.
            Defaults to None.
        device: Parameter device. Defaults to None.
        dtype: Parameter dtype. Defaults to None.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 feedforward_channels: int,
                 window_size: int = 0,
                 use_rel_pos: bool = False,
                 rel_pos_size: Optional[Tuple[int, int]] = None,
                 qkv_bias: bool = True,
                 drop_path: float = 0.,
                 layer_scale_init_value: Optional[float] = None,
                 device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6, **factory)
        self.attn = Attention(dim, num_heads, qkv_bias, window_size, use_rel_pos, rel_pos_size, **factory)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6, **factory)
        self.mlp = Mlp(dim, feedforward_channels, **factory)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        if layer_scale_init_value is not None:
            self.gamma1 = nn.Parameter(torch.full((dim, ), float(layer_scale_init_value), **factory))
            self.gamma2 = nn.Parameter(torch.full((dim, ), float(layer_scale_init_value), **factory))
        else:
            self.gamma1 = self.gamma2 = None

    @staticmethod
    def _scale(y: torch.Tensor, gamma: Optional[torch.Tensor]) -> torch.Tensor:
        return y if gamma is None else y * gamma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, H, W, C) -> (B, H, W, C)."""
        x = x + self.drop_path(self._scale(self.attn(self.norm1(x)), self.gamma1))
        return x + self.drop_path(self._scale(self.mlp(self.norm2(x)), self.gamma2))


@MODELS.register_module()
class ScalableViT(BaseModule):
    """Plain ViT with ViTDet-style window/global attention, from 86 M to 2.4 B parameters.

    Architectures (:attr:`arch_zoo`). *Encoder* parameters are counted for patch 16, 3 bands and a
    224 x 224 design size: patch embedding + absolute position embedding (14 x 14 grid, no cls token)
    + blocks + final norm; no heads, no relative position tables (``use_rel_pos=False``) and no layer
    scale. ``tests/test_models/test_vit.py`` checks them on the meta device.

    ============  =====  =====  =====  ========  =================  ======  ==========================
    arch          width  depth  heads  MLP       parameters         vs ref  chosen as
    ============  =====  =====  =====  ========  =================  ======  ==========================
    86m, b, base    768     12     12  3072      85,797,120         -0.24%  ViT-B/16 exactly
    605m           1024     48     16  4096      605,608,960        +0.06%  ViT-L width, 2x depth
    1.3b           1664     34     16  8192      1,305,907,840      +0.45%  ViT-G width/MLP, depth 34
    2.4b           1664     63     16  8192      2,418,397,952      +0.77%  ViT-G width/MLP, depth 63
    ============  =====  =====  =====  ========  =================  ======  ==========================

    References (the paper's counts): 86 M, 605.26 M, 1.3 B, 2.4 B. The paper's own widths and depths
    are unpublished; these are ours. Width scaling alone cannot reach 605 M with literature widths
    (ViT-H/16 with 32 blocks has 631 M, +4%), so the 605 M model deepens ViT-L; the 1.3 B and 2.4 B
    models keep ViT-G's width 1664 and MLP 8192 (Zhai et al., "Scaling Vision Transformers") and set
    the depth. Other sizes are a custom ``arch`` dict away.

    Args:
        arch: A name in :attr:`arch_zoo` or a dict with keys ``embed_dims``, ``num_layers``,
            ``num_heads`` and ``feedforward_channels``. Defaults to 'base'.
        in_channels: Input bands (any number). Defaults to 3.
        img_size: Design input size (int or (H, W)): the stored position embedding covers its token
            grid, and so do the global blocks' relative position tables. Other runtime sizes resample
            both; checkpoints of other sizes are resampled on load. Defaults to 224.
        patch_size: Patch side. Defaults to 16.
        out_indices: Blocks whose outputs are returned (negative counts from the end), as
            (B, C, ceil(H / patch), ceil(W / patch)) maps in block order. Defaults to (-1, ).
        window_size: Window side of the non-global blocks; 0 makes every block global. Defaults to 14.
        global_attn_indexes: Blocks with global attention. Defaults to None: the last block of each
            quarter, ``k * depth // 4 - 1`` for k = 1..4 (ViTDet's (2, 5, 8, 11) for depth 12).
        use_rel_pos: Decomposed relative position bias in every block (adds parameters not counted in
            the table). Defaults to False.
        qkv_bias: Bias of the qkv linears. Defaults to True.
        drop_path_rate: Stochastic depth, linearly increasing over blocks. Defaults to 0.
        layer_scale_init_value: Initial layer-scale value; None for no layer scale. Defaults to None.
        final_norm: Apply the final LayerNorm (``norm``) to the last block's output. Defaults to True.
        frozen_stages: -1 freezes nothing; 0 the patch and position embeddings; k > 0 also blocks
            ``0..k-1`` (and the final norm once all blocks are frozen). Defaults to -1.
        with_cp: Activation checkpointing per block (non-reentrant). Defaults to False.
        init_cfg: mmengine init config, e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
            Defaults to None.
        device: Parameter device; ``'meta'`` builds any size without allocating (then skip
            ``init_weights``). Defaults to None.
        dtype: Parameter dtype. Defaults to None.
    """
    arch_zoo = {
        **dict.fromkeys(['86m', 'b', 'base'],
                        dict(embed_dims=768, num_layers=12, num_heads=12, feedforward_channels=3072)),
        **dict.fromkeys(['605m'], dict(embed_dims=1024, num_layers=48, num_heads=16, feedforward_channels=4096)),
        **dict.fromkeys(['1.3b'], dict(embed_dims=1664, num_layers=34, num_heads=16, feedforward_channels=8192)),
        **dict.fromkeys(['2.4b'], dict(embed_dims=1664, num_layers=63, num_heads=16, feedforward_channels=8192)),
    }
    essential_keys = {'embed_dims', 'num_layers', 'num_heads', 'feedforward_channels'}

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 in_channels: int = 3,
                 img_size: Union[int, Sequence[int]] = 224,
                 patch_size: int = 16,
                 out_indices: Sequence[int] = (-1, ),
                 window_size: int = 14,
                 global_attn_indexes: Optional[Sequence[int]] = None,
                 use_rel_pos: bool = False,
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.,
                 layer_scale_init_value: Optional[float] = None,
                 final_norm: bool = True,
                 frozen_stages: int = -1,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None,
                 device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None,
                 pretrained: Optional[str] = None) -> None:
        super().__init__(init_cfg=pretrained_to_init_cfg(pretrained, init_cfg, type(self).__name__))
        self.arch_settings = parse_arch(arch, self.arch_zoo, self.essential_keys)
        dim, depth = self.arch_settings['embed_dims'], self.arch_settings['num_layers']
        self.embed_dims, self.num_layers = dim, depth
        self.out_indices = check_out_indices(out_indices, depth)
        self.out_channels = (dim, ) * len(self.out_indices)
        if global_attn_indexes is None:
            global_attn_indexes = [k * depth // 4 - 1 for k in range(1, 5)] if depth >= 4 else [depth - 1]
        self.global_attn_indexes = tuple(sorted({i % depth for i in global_attn_indexes}))
        self.frozen_stages, self.with_cp, self.final_norm = frozen_stages, with_cp, final_norm
        factory = dict(device=device, dtype=dtype)

        self.patch_embed = PatchEmbed(in_channels, dim, patch_size, **factory)
        h, w = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        self.grid_size = self.patch_embed.grid_size(h, w)
        # Stored as a grid: its shape names its size, so other sizes resample unambiguously.
        self.pos_embed = nn.Parameter(torch.zeros(1, *self.grid_size, dim, **factory))  # (1, h, w, C)
        dpr = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]  # floats: meta-safe
        self.blocks = nn.ModuleList([
            TransformerBlock(
                dim, self.arch_settings['num_heads'], self.arch_settings['feedforward_channels'],
                window_size=0 if i in self.global_attn_indexes else window_size, use_rel_pos=use_rel_pos,
                rel_pos_size=self.grid_size, qkv_bias=qkv_bias, drop_path=dpr[i],
                layer_scale_init_value=layer_scale_init_value, **factory) for i in range(depth)
        ])
        self.norm = nn.LayerNorm(dim, eps=1e-6, **factory) if final_norm else nn.Identity()
        self._register_load_state_dict_pre_hook(self._resize_on_load)
        self._freeze_stages()

    @property
    def input_bands(self) -> Tuple[int, ...]:
        """Band counts this backbone accepts."""
        return (self.patch_embed.in_channels, )

    def init_weights(self) -> None:
        """Truncated-normal linears and position embedding, unless loading a pretrained checkpoint."""
        super().init_weights()
        if loads_pretrained(self.init_cfg):
            return
        trunc_normal_(self.pos_embed, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        # The patch projection is a linear map of flattened patches: initialise it as one (as MAE).
        nn.init.xavier_uniform_(self.patch_embed.proj.weight.view(self.embed_dims, -1))

    def _resize_on_load(self, state_dict: dict, prefix: str, *args) -> None:
        """Adapt a checkpoint of another design size (or the flat MAE layout) before a strict load.

        - ``pos_embed`` in the flat (1, N, C) layout of a square grid, with or without a leading cls
          token, becomes (1, g, g, C) (a cls entry is dropped: this backbone has no cls token).
        - A ``pos_embed`` grid of another size is resized bicubically to this model's grid.
        - Relative position tables of another length (global blocks at another design size) are
          resampled linearly.
        """
        key = prefix + 'pos_embed'
        value = state_dict.get(key)
        if value is not None:
            if value.ndim == 3:
                extra, value = split_square_pos_embed(value)
                if extra.shape[1]:
                    print_log(f'ScalableViT: dropped the cls-token entry of {key}', logger='current')
            if tuple(value.shape[1:3]) != self.grid_size:
                print_log(f'ScalableViT: resized {key} from {tuple(value.shape[1:3])} to {self.grid_size}',
                          logger='current')
            state_dict[key] = resize_pos_embed_grid(value, self.grid_size)
        for name, param in self.named_parameters():
            if not name.endswith(('rel_pos_h', 'rel_pos_w')):
                continue
            value = state_dict.get(prefix + name)
            if value is not None and value.ndim == 2 and value.shape[0] != param.shape[0]:
                state_dict[prefix + name] = resize_rel_pos(value, param.shape[0])

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        freeze(self.pos_embed, self.patch_embed, *self.blocks[:self.frozen_stages])
        if self.frozen_stages >= self.num_layers:
            freeze(self.norm)

    def train(self, mode: bool = True) -> 'ScalableViT':
        super().train(mode)
        self._freeze_stages()
        return self

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """x: (B, in_channels, H, W), any H and W. Returns one (B, C, ceil(H / p), ceil(W / p)) map per
        ``out_indices`` entry."""
        x = self.patch_embed(x)  # (B, h, w, C)
        x = x + resize_pos_embed_grid(self.pos_embed, tuple(x.shape[1:3]))
        outs = []
        for i, block in enumerate(self.blocks):
            x = self._run_block(block, x)
            if i in self.out_indices:
                y = self.norm(x) if i == self.num_layers - 1 else x
                outs.append(y.permute(0, 3, 1, 2).contiguous())  # (B, C, h, w)
        return tuple(outs)

    def _run_block(self, block: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and torch.is_grad_enabled():
            return cp.checkpoint(block, x, use_reentrant=False)
        return block(x)

    def forward_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Run already embedded tokens (B, L, C), e.g. the visible subset of a masked image, through
        every block as one sequence and the final norm. Equals :meth:`forward` on those tokens only
        when every block attends globally without relative position bias (their grid positions are
        unknown here), which MAE-style pretraining configures."""
        x = tokens[:, None]  # (B, 1, L, C): a one-row grid
        for block in self.blocks:
            x = self._run_block(block, x)
        return self.norm(x)[:, 0]

    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """Layer id for layer-wise lr decay: patch/position embedding 0, block ``i`` ``i + 1``,
        everything else (final norm, parameters outside ``prefix``) ``num_layers + 1``.

        Returns:
            (layer_id, num_layers + 2).
        """
        return columnar_layer_depth(param_name, prefix, self.num_layers)
