"""SpectralGPT: a spectral-spatial ViT on 3-D tokens (bands x pixels) for multispectral images.

Written from the paper (Hong et al., "SpectralGPT: Spectral Remote Sensing Foundation Model",
IEEE TPAMI 46(8), 2024; arXiv 2311.07113) and a reading of its official code
(``danfenghong/IEEE_TPAMI_SpectralGPT``: ``models_mae_spectral.py``, ``util/video_vit.py`` and the
SegMunich/OSCD downstream models).

* Tokeniser: the (B, bands, H, W) cube is read as a one-channel volume and cut by a ``Conv3d``
  into ``t_patch_size`` bands x ``patch_size``² pixel tokens: at 12 bands and 128² this gives
  4 spectral groups x 16 x 16 = 1024 tokens, ordered group-major (t, h, w).
* Separate position embeddings: ``pos_embed_spatial`` (1, h * w, C) shared by every group plus
  ``pos_embed_temporal`` (1, groups, C) shared by every position. No cls token.
* Pre-norm blocks with separate ``q``/``k``/``v`` linears (the released checkpoints' layout), fused
  SDPA attention, GELU MLP, LayerNorm eps 1e-6.
* Dense outputs as in the official SegMunich/OSCD models: the spectral groups of a block's output
  are fused by ``Linear(groups -> 1)`` and the resulting (B, C, H/8, W/8) map feeds either a
  deconvolution pyramid (1x1 conv + GroupNorm + GELU + ConvTranspose x8/x4/x2/x1, dropout) or is
  returned as is.
* Classification output as in the official fine-tuning model (``models_vit_tensor.VisionTransformer``):
  the last block's tokens averaged, then the final ``norm`` (after pooling), with the single joint
  ``pos_embed`` (1, groups * h * w, C) that model stores (``sep_pos_embed=False``).

Where we differ from the official code (on purpose):

* Position embeddings are *resized* (bicubic spatially, linear spectrally) to other image sizes and
  band counts, at load time and at run time. The official code asserts a fixed input size and,
  when changing size between pretraining stages, deletes the spatial embedding.
* Band counts that are not a multiple of ``t_patch_size`` are padded to the next multiple with the
  per-pixel mean of the input bands (``band_padding='mean'``), the rule the official SegMunich
  code applies by hand (10 bands + 2 copies of the band mean = 12). 4 bands -> 6 (2 groups),
  10 -> 12 (4 groups), 13 -> 15 (5 groups).
* Inputs whose size is not a multiple of ``patch_size`` are zero-padded at the bottom/right.
"""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch import nn

from mmrsfm.registry import MODELS
from ..layers.attention import SplitQKVAttention, resize_rel_pos
from ..layers.mlp import Mlp
from ..layers.pos_embed import resize_pos_embed, split_square_pos_embed
from ..utils.arch import loads_pretrained, parse_arch, pretrained_to_init_cfg
from ..utils.layerwise import check_out_indices, columnar_layer_depth, freeze

#: Defaults of the official deconvolution pyramid (SegMunich/OSCD ``conv0..conv3``): output channels,
#: 1x1-conv channels, upsampling factors of the stride-``patch_size`` map, GroupNorm groups, dropout.
DEFAULT_PYRAMID = dict(channels=(256, 512, 1024, 2048), mid_channels=(512, 512, 1024, 2048),
                       scales=(8, 4, 2, 1), norm_groups=32, dropout=0.5)


def _same_grid(a: Tuple, b: Tuple) -> bool:
    """``a == b`` for concrete sizes; False when a size is symbolic (a dynamic-H/W export), so that the resize
    is traced into the graph instead of specialising it on the native grid (resampling to the same size is
    the identity)."""
    return not any(isinstance(v, torch.SymInt) for v in (*a, *b)) and tuple(a) == tuple(b)


def sep_pos_embed(spatial: torch.Tensor, grid: Tuple[int, int], temporal: torch.Tensor,
                  size: Tuple[int, int, int]) -> torch.Tensor:
    """Full position embedding of a (t, h, w) token volume from separate spatial and spectral parts.

    ``spatial`` is resized bicubically from ``grid`` to (h, w) and ``temporal`` linearly from its
    length to ``t`` when they differ; then, as the official code, ``spatial.repeat(1, t, 1) +
    temporal.repeat_interleave(h * w, 1)`` (group-major token order).

    Args:
        spatial: (1, gh * gw, C) spatial embedding of the ``grid`` (gh, gw).
        grid: Its grid.
        temporal: (1, gt, C) spectral-group embedding.
        size: Target (t, h, w).

    Returns:
        (1, t * h * w, C).
    """
    t, h, w = size
    if not _same_grid(grid, (h, w)):
        spatial = resize_pos_embed(spatial, tuple(grid), (h, w))
    if temporal.shape[1] != t:
        temporal = resize_rel_pos(temporal[0], t)[None]
    # = spatial.repeat(1, t, 1) + temporal.repeat_interleave(h * w, dim=1), written as a broadcast sum:
    # repeat_interleave by a symbolic count exports to ONNX with the export size's Expand shape.
    return (spatial[:, None] + temporal[:, :, None]).flatten(1, 2)


def resize_joint_pos_embed(pos_embed: torch.Tensor, src: Tuple[int, int, int],
                           dst: Tuple[int, int, int]) -> torch.Tensor:
    """Resize a joint (1, t * h * w, C) position embedding (group-major) from ``src`` (t, h, w) to ``dst``.

    Each group's grid is resized bicubically, then every position linearly across groups: the same
    interpolations :func:`sep_pos_embed` applies to the separate parts, so a joint embedding that is the
    sum of separate ones resizes to the sum of the resized parts.
    """
    if _same_grid(src, dst):
        return pos_embed
    (t, h, w), (nt, nh, nw) = src, dst
    if pos_embed.shape[1] != t * h * w:
        raise ValueError(f'pos_embed has {pos_embed.shape[1]} tokens, expected {t} groups x {h}x{w} grid')
    c = pos_embed.shape[-1]
    x = pos_embed.float().reshape(t, h, w, c).permute(0, 3, 1, 2)  # (t, C, h, w): groups as the batch
    if not _same_grid((h, w), (nh, nw)):
        x = F.interpolate(x, size=(nh, nw), mode='bicubic', align_corners=False)
    if t != nt:
        x = x.permute(1, 2, 3, 0).reshape(1, c * nh * nw, t)
        x = F.interpolate(x, size=nt, mode='linear', align_corners=False).reshape(c, nh, nw, nt).permute(3, 0, 1, 2)
    return x.permute(0, 2, 3, 1).reshape(1, nt * nh * nw, c).to(pos_embed.dtype)


def resize_sep_pos_embed_on_load(state_dict: dict, key_spatial: str, key_temporal: str,
                                 grid: Tuple[int, int], groups: int, owner: str) -> None:
    """In-place: resize a checkpoint's flat square ``key_spatial`` (1, g * g, C) to ``grid`` and its
    ``key_temporal`` (1, gt, C) to ``groups`` entries, logging what changed (for load pre-hooks)."""
    value = state_dict.get(key_spatial)
    if value is not None and value.shape[1] != grid[0] * grid[1]:
        extra, sq = split_square_pos_embed(value)
        if extra.shape[1]:
            raise ValueError(f'{owner}: {key_spatial} has {value.shape[1]} tokens, a cls token plus a square '
                             f'grid; SpectralGPT embeddings have no cls token (is this the right checkpoint?)')
        src = tuple(sq.shape[1:3])
        state_dict[key_spatial] = resize_pos_embed(value, src, tuple(grid))
        print_log(f'{owner}: resized {key_spatial} from grid {src} to {tuple(grid)}', logger='current')
    value = state_dict.get(key_temporal)
    if value is not None and value.shape[1] != groups:
        state_dict[key_temporal] = resize_rel_pos(value[0], groups)[None]
        print_log(f'{owner}: resized {key_temporal} from {value.shape[1]} to {groups} spectral groups',
                  logger='current')


class SpectralPatchEmbed(nn.Module):
    """3-D tokeniser: (B, bands, H, W) -> (B, t, h, w, C) with ``Conv3d(1, C, (u, p, p))``.

    ``bands`` must already be a multiple of ``u`` (see :meth:`SpectralGPT.pad_bands`); H and W are
    zero-padded at the bottom/right to multiples of ``p``.

    Args:
        embed_dim: Token channels.
        patch_size: Pixel patch side ``p``.
        t_patch_size: Bands per token ``u``.
        device: Parameter device. Defaults to None.
        dtype: Parameter dtype. Defaults to None.
    """

    def __init__(self, embed_dim: int, patch_size: int, t_patch_size: int,
                 device: Optional[torch.device] = None, dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        self.patch_size, self.t_patch_size = patch_size, t_patch_size
        kernel = (t_patch_size, patch_size, patch_size)
        self.proj = nn.Conv3d(1, embed_dim, kernel, stride=kernel, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, bands, H, W) -> (B, bands / u, ceil(H / p), ceil(W / p), C)."""
        if x.shape[1] % self.t_patch_size:
            raise ValueError(f'{x.shape[1]} bands is not a multiple of t_patch_size={self.t_patch_size}; '
                             f'pad the bands first (SpectralGPT.pad_bands)')
        p = self.patch_size
        pad_h, pad_w = (-x.shape[2]) % p, (-x.shape[3]) % p
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        return self.proj(x.unsqueeze(1)).permute(0, 2, 3, 4, 1)  # (B, t, h, w, C)


class SpectralBlock(nn.Module):
    """Pre-norm transformer block on a (B, N, C) sequence: ``x + attn(norm1(x))``, ``x + mlp(norm2(x))``.

    Module names (``norm1``, ``attn.{q,k,v,proj}``, ``norm2``, ``mlp.{fc1,fc2}``) are those of the
    official SpectralGPT checkpoints.

    Args:
        dim: Token channels.
        num_heads: Attention heads.
        feedforward_channels: MLP hidden channels.
        qkv_bias: Biases of q/k/v. Defaults to True.
        drop_path: Stochastic depth rate. Defaults to 0.
        device: Parameter device. Defaults to None.
        dtype: Parameter dtype. Defaults to None.
    """

    def __init__(self, dim: int, num_heads: int, feedforward_channels: int, qkv_bias: bool = True,
                 drop_path: float = 0., device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None) -> None:
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6, **factory)
        self.attn = SplitQKVAttention(dim, num_heads, qkv_bias, **factory)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6, **factory)
        self.mlp = Mlp(dim, feedforward_channels, **factory)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, N, C) -> (B, N, C)."""
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


@MODELS.register_module()
class SpectralGPT(BaseModule):
    """SpectralGPT encoder (3-D spectral tokens, separate spatial/spectral position embeddings) with
    the official dense-prediction outputs.

    Architectures (:attr:`arch_zoo`), encoder parameters at 12 bands and 128² (patch embedding,
    both position embeddings, blocks, final norm; no fusion layer or pyramid), checked in
    ``tests/test_models/test_spectralgpt.py`` on the meta device:

    ============  =====  =====  =====  =====  ============  =========================
    arch          width  depth  heads  MLP    parameters    official builder
    ============  =====  =====  =====  =====  ============  =========================
    b, base         768     12     12   3072   85,403,904   mae_vit_base_patch8_128
    l, large       1024     24     16   4096  302,775,296   mae_vit_large_patch8_128
    h, huge        1280     32     16   5120  630,260,480   mae_vit_huge_patch8_128
    ============  =====  =====  =====  =====  ============  =========================

    The released checkpoints (``SpectralGPT.pth`` at 96², ``SpectralGPT+.pth`` at 128²) are Base;
    convert them with ``tools/model_converters/spectralgpt2mmrsfm.py``.

    Outputs (``out_type``), for an input of B x bands x H x W:

    * ``'pyramid'`` (default; what UperNet-style heads expect, ``in_channels=[256, 512, 1024, 2048]``):
      the block ``out_indices[-1]`` output, spectral groups fused, through the official
      deconvolution pyramid: a tuple of 4 maps (B, channels[i], scales[i] * h, scales[i] * w) with
      ``h = ceil(H / patch_size)``, i.e. strides 1, 2, 4 and 8 of the input at the defaults.
    * ``'featmap'``: one (B, C, h, w) map per ``out_indices`` entry (stride ``patch_size``), to pair
      with :class:`~mmrsfm.models.necks.SimpleFPN`.
    * ``'avg_token'`` (classification, as the official fine-tuning model): a 1-tuple with the (B, C)
      vector ``norm(mean of the last block's tokens)`` (the norm comes after pooling), for
      ``neck=None`` and a ``LinearClsHead``. No fusion layer or pyramid is built.

    Band counts: any number of input bands works at run time. They are padded to a multiple of
    ``t_patch_size`` (see ``band_padding``), giving ``groups = ceil(bands / t_patch_size)``
    spectral groups; the spectral position embedding is resized to ``groups`` when it differs from
    the design count ``ceil(in_channels / t_patch_size)``. The ``'linear'`` fusion layer is made
    for the design count, so with it the input must have that many groups.

    Args:
        arch: A name in :attr:`arch_zoo` or a dict with ``embed_dims``, ``num_layers``, ``num_heads``
            and ``feedforward_channels``. Defaults to 'base'.
        in_channels: Design number of bands (12: Sentinel-2 B1-B12 without B10, the pretraining
            order). Sets the stored spectral embedding length and the fusion layer. Defaults to 12.
        img_size: Design input size (int or (H, W)); the stored spatial embedding covers its token
            grid. Other sizes resize it at run time; checkpoints of other sizes are resized on load.
            Defaults to 128.
        patch_size: Pixel patch side. Defaults to 8.
        t_patch_size: Bands per token. Defaults to 3.
        band_padding: How to pad a band count that is not a multiple of ``t_patch_size``: 'mean'
            (append copies of the per-pixel band mean, as the official SegMunich code), 'zero', or
            None to raise instead. Defaults to 'mean'.
        out_type: 'pyramid', 'featmap' or 'avg_token' (see above). Defaults to 'pyramid'.
        out_indices: Blocks whose outputs are used (negative counts from the end). 'pyramid' uses
            exactly one, 'avg_token' only the last block. Defaults to (-1, ) (the official SegMunich/OSCD
            choice: the last block).
        avg_skip_first_token: With ``out_type='avg_token'``, leave the first token out of the average.
            The official classifier does (``x[:, 1:, :].mean(dim=1)``, written for a cls token the
            model does not have, so it drops the first patch token of the first spectral group); True
            reproduces the released fine-tuned classifiers exactly. Defaults to False (all tokens).
        pos_embed_layout: 'separate' (``pos_embed_spatial`` + ``pos_embed_temporal``, the pretraining
            layout) or 'joint' (one ``pos_embed`` (1, groups * h * w, C), the official fine-tuned
            classifiers' layout, ``sep_pos_embed=False``). A joint embedding is resized for other inputs
            (bicubic per spectral group, then linear across groups, at run time); on load, a checkpoint
            ``pos_embed`` with this model's group count and another square grid is resized, any other
            token count raises; separate checkpoint embeddings are summed into it. Defaults to 'separate'.
        spectral_fusion: How the spectral groups of an output are merged: 'linear' (the official
            learned ``Linear(groups -> 1)``, module ``spectral_fuse``, shared by all ``out_indices``) or
            'mean'. Defaults to 'linear'.
        final_norm: Apply the final LayerNorm ``norm`` to the last block's output before fusion. The
            official dense models do not; with False ``norm`` is kept (so checkpoints load strictly)
            but frozen, as nothing uses it. Ignored by 'avg_token', which always applies it (after
            pooling). Defaults to False.
        pyramid_cfg: Overrides of :data:`DEFAULT_PYRAMID` (``channels``, ``mid_channels``, ``scales``,
            ``norm_groups``, ``dropout``); a branch with scale 1 has no deconvolution, so its
            ``channels`` must equal its ``mid_channels``. Defaults to None.
        qkv_bias: Biases of q/k/v. Defaults to True.
        drop_path_rate: Stochastic depth, linearly increasing over blocks. Defaults to 0.
        frozen_stages: -1 freezes nothing; 0 the patch and position embeddings; k > 0 also blocks
            ``0..k-1`` (and ``norm`` once all blocks are frozen). Defaults to -1.
        with_cp: Activation checkpointing per block (non-reentrant). Defaults to False.
        init_cfg: mmengine init config, e.g. ``dict(type='Pretrained', checkpoint=...)`` with a
            converted checkpoint. Defaults to None.
        device: Parameter device; ``'meta'`` builds any size without allocating. Defaults to None.
        dtype: Parameter dtype. Defaults to None.
    """
    arch_zoo = {
        **dict.fromkeys(['b', 'base'], dict(embed_dims=768, num_layers=12, num_heads=12,
                                            feedforward_channels=3072)),
        **dict.fromkeys(['l', 'large'], dict(embed_dims=1024, num_layers=24, num_heads=16,
                                             feedforward_channels=4096)),
        **dict.fromkeys(['h', 'huge'], dict(embed_dims=1280, num_layers=32, num_heads=16,
                                            feedforward_channels=5120)),
    }
    essential_keys = {'embed_dims', 'num_layers', 'num_heads', 'feedforward_channels'}

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 in_channels: int = 12,
                 img_size: Union[int, Sequence[int]] = 128,
                 patch_size: int = 8,
                 t_patch_size: int = 3,
                 band_padding: Optional[str] = 'mean',
                 out_type: str = 'pyramid',
                 out_indices: Sequence[int] = (-1, ),
                 avg_skip_first_token: bool = False,
                 pos_embed_layout: str = 'separate',
                 spectral_fusion: str = 'linear',
                 final_norm: bool = False,
                 pyramid_cfg: Optional[dict] = None,
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.,
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
        if in_channels < 1:
            raise ValueError(f'in_channels must be >= 1, got {in_channels}')
        if band_padding not in ('mean', 'zero', None):
            raise ValueError(f"band_padding must be 'mean', 'zero' or None, got {band_padding!r}")
        if out_type not in ('pyramid', 'featmap', 'avg_token'):
            raise ValueError(f"out_type must be 'pyramid', 'featmap' or 'avg_token', got {out_type!r}")
        if pos_embed_layout not in ('separate', 'joint'):
            raise ValueError(f"pos_embed_layout must be 'separate' or 'joint', got {pos_embed_layout!r}")
        if spectral_fusion not in ('linear', 'mean'):
            raise ValueError(f"spectral_fusion must be 'linear' or 'mean', got {spectral_fusion!r}")
        self.out_indices = check_out_indices(out_indices, depth)
        if out_type == 'pyramid' and len(self.out_indices) != 1:
            raise ValueError(f"out_type='pyramid' builds the pyramid from one block; got out_indices="
                             f"{tuple(out_indices)} (use out_type='featmap' for several blocks)")
        if out_type == 'avg_token' and self.out_indices != (depth - 1, ):
            raise ValueError(f"out_type='avg_token' pools the last block's tokens; got out_indices="
                             f'{tuple(out_indices)} (leave out_indices at its default (-1, ))')
        self.in_channels, self.patch_size, self.t_patch_size = in_channels, patch_size, t_patch_size
        self.band_padding, self.out_type, self.spectral_fusion = band_padding, out_type, spectral_fusion
        self.final_norm, self.frozen_stages, self.with_cp = final_norm, frozen_stages, with_cp
        self.avg_skip_first_token, self.pos_embed_layout = avg_skip_first_token, pos_embed_layout
        factory = dict(device=device, dtype=dtype)

        h, w = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        self.grid_size = (math.ceil(h / patch_size), math.ceil(w / patch_size))
        self.num_groups = self.groups_for(in_channels)
        self.patch_embed = SpectralPatchEmbed(dim, patch_size, t_patch_size, **factory)
        # Official flat layouts ((1, h * w, C) and (1, groups, C), or the joint (1, groups * h * w, C)):
        # official checkpoints load without reshaping.
        n_grid = self.grid_size[0] * self.grid_size[1]
        if pos_embed_layout == 'joint':
            self.pos_embed = nn.Parameter(torch.zeros(1, self.num_groups * n_grid, dim, **factory))
        else:
            self.pos_embed_spatial = nn.Parameter(torch.zeros(1, n_grid, dim, **factory))
            self.pos_embed_temporal = nn.Parameter(torch.zeros(1, self.num_groups, dim, **factory))
        dpr = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]  # floats: meta-safe
        self.blocks = nn.ModuleList([
            SpectralBlock(dim, self.arch_settings['num_heads'], self.arch_settings['feedforward_channels'],
                          qkv_bias=qkv_bias, drop_path=dpr[i], **factory) for i in range(depth)
        ])
        self.norm = nn.LayerNorm(dim, eps=1e-6, **factory)
        if not final_norm and out_type != 'avg_token':
            # Unused by the dense outputs: frozen so DDP does not wait for its gradients.
            self.norm.requires_grad_(False)
        if spectral_fusion == 'linear' and out_type != 'avg_token':
            self.spectral_fuse = nn.Linear(self.num_groups, 1, **factory)
        if out_type == 'avg_token':
            self.out_channels = (dim, )
        elif out_type == 'pyramid':
            self.pyramid_cfg = {**DEFAULT_PYRAMID, **(pyramid_cfg or {})}
            self.pyramid = self._build_pyramid(dim, self.pyramid_cfg, factory)
            self.out_channels = tuple(self.pyramid_cfg['channels'])
        else:
            self.out_channels = (dim, ) * len(self.out_indices)
        self._register_load_state_dict_pre_hook(self._resize_on_load)
        self._freeze_stages()

    @staticmethod
    def _build_pyramid(dim: int, cfg: dict, factory: dict) -> nn.ModuleList:
        """The official ``conv0..conv3`` branches: 1x1 conv, GroupNorm, GELU, ConvTranspose, dropout."""
        lengths = {len(cfg[k]) for k in ('channels', 'mid_channels', 'scales')}
        if len(lengths) != 1:
            raise ValueError(f'pyramid_cfg: channels, mid_channels and scales must have the same length, got {cfg}')
        branches = []
        for out_c, mid_c, scale in zip(cfg['channels'], cfg['mid_channels'], cfg['scales']):
            if mid_c % cfg['norm_groups']:
                raise ValueError(f"pyramid_cfg: mid_channels {mid_c} is not divisible by norm_groups="
                                 f"{cfg['norm_groups']}")
            layers = [nn.Conv2d(dim, mid_c, 1, **factory), nn.GroupNorm(cfg['norm_groups'], mid_c, **factory),
                      nn.GELU()]
            if scale > 1:
                layers.append(nn.ConvTranspose2d(mid_c, out_c, scale, scale, **factory))
            elif out_c != mid_c:
                raise ValueError(f'pyramid_cfg: the scale-1 branch has no deconvolution, so its channels '
                                 f'({out_c}) must equal its mid_channels ({mid_c})')
            layers.append(nn.Dropout(cfg['dropout']))
            branches.append(nn.Sequential(*layers))
        return nn.ModuleList(branches)

    @property
    def input_bands(self) -> Tuple[int, ...]:
        """Band counts a config may feed (checked by ``InputChannelsCheckHook``): the design count.
        Direct calls accept any count (see the class docstring)."""
        return (self.in_channels, )

    def groups_for(self, bands: int) -> int:
        """Spectral groups (tokens along the band axis) of an input with ``bands`` bands."""
        return math.ceil(bands / self.t_patch_size)

    def init_weights(self) -> None:
        """MAE-style init (as the official pretrainer): trunc-normal position embeddings, Xavier linears
        and patch projection; skipped when loading a pretrained checkpoint."""
        super().init_weights()
        if loads_pretrained(self.init_cfg):
            return
        for param in self.pos_embed_params():
            trunc_normal_(param, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.xavier_uniform_(self.patch_embed.proj.weight.view(self.embed_dims, -1))

    def pos_embed_params(self) -> Tuple[nn.Parameter, ...]:
        """The position embedding parameters of this ``pos_embed_layout``."""
        if self.pos_embed_layout == 'joint':
            return (self.pos_embed, )
        return self.pos_embed_spatial, self.pos_embed_temporal

    def _resize_on_load(self, state_dict: dict, prefix: str, *args) -> None:
        """Resize checkpoint position embeddings of another image size / band count before loading."""
        key_s, key_t, key_j = prefix + 'pos_embed_spatial', prefix + 'pos_embed_temporal', prefix + 'pos_embed'
        if self.pos_embed_layout == 'separate':
            resize_sep_pos_embed_on_load(state_dict, key_s, key_t, self.grid_size, self.num_groups, 'SpectralGPT')
            if key_j in state_dict:
                raise KeyError(f"'{key_j}': a joint position embedding (official fine-tuned classifiers, "
                               f"sep_pos_embed=False); build the backbone with pos_embed_layout='joint'")
            return
        if key_s in state_dict and key_t in state_dict and key_j not in state_dict:
            # A pretraining checkpoint: its separate parts summed give the joint embedding they stand for.
            spatial, temporal = state_dict.pop(key_s), state_dict.pop(key_t)
            _, grid = split_square_pos_embed(spatial)
            state_dict[key_j] = sep_pos_embed(spatial, tuple(grid.shape[1:3]), temporal,
                                              (self.num_groups, *self.grid_size))
            print_log(f'SpectralGPT: {key_s} + {key_t} summed into the joint {key_j}', logger='current')
            return
        value, n = state_dict.get(key_j), self.pos_embed.shape[1]
        if value is None or value.shape[1] == n:
            return
        # A flat joint embedding does not say its group count: only this model's one can be assumed.
        side = math.isqrt(value.shape[1] // self.num_groups)
        if value.shape[1] != self.num_groups * side * side:
            raise ValueError(f"'{key_j}' has {value.shape[1]} tokens, not {self.num_groups} spectral groups x a "
                             f'square grid; build the backbone with the in_channels and img_size of the '
                             f'checkpoint (this model holds {n} = {self.num_groups} x {self.grid_size} tokens)')
        state_dict[key_j] = resize_joint_pos_embed(value, (self.num_groups, side, side),
                                                   (self.num_groups, *self.grid_size))
        print_log(f'SpectralGPT: resized {key_j} from grid {(side, side)} to {self.grid_size}', logger='current')

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        freeze(*self.pos_embed_params(), self.patch_embed,
               *self.blocks[:self.frozen_stages])
        if self.frozen_stages >= self.num_layers:
            freeze(self.norm)

    def train(self, mode: bool = True) -> 'SpectralGPT':
        super().train(mode)
        self._freeze_stages()
        return self

    def pad_bands(self, x: torch.Tensor) -> torch.Tensor:
        """(B, bands, H, W) -> (B, groups * t_patch_size, H, W) by the ``band_padding`` rule."""
        if x.ndim != 4:
            raise ValueError(f'SpectralGPT expects (B, bands, H, W) inputs, got shape {tuple(x.shape)}')
        missing = (-x.shape[1]) % self.t_patch_size
        if not missing:
            return x
        if self.band_padding is None:
            raise ValueError(f'{x.shape[1]} bands is not a multiple of t_patch_size={self.t_patch_size}; '
                             f"set band_padding='mean' or 'zero', or select/pad bands in the pipeline")
        if self.band_padding == 'mean':
            fill = x.mean(1, keepdim=True).expand(-1, missing, -1, -1)
        else:
            fill = x.new_zeros(x.shape[0], missing, *x.shape[2:])
        return torch.cat([x, fill], dim=1)

    def get_pos_embed(self, size: Tuple[int, int, int]) -> torch.Tensor:
        """(1, t * h * w, C) position embedding of a (t, h, w) token volume (resized as needed)."""
        if self.pos_embed_layout == 'joint':
            return resize_joint_pos_embed(self.pos_embed, (self.num_groups, *self.grid_size), size)
        return sep_pos_embed(self.pos_embed_spatial, self.grid_size, self.pos_embed_temporal, size)

    def tokenize(self, x: torch.Tensor) -> torch.Tensor:
        """Pad the bands and embed the patches, without position embedding:
        (B, bands, H, W) -> (B, t, h, w, C)."""
        return self.patch_embed(self.pad_bands(x))

    def run_block(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Block ``i`` on (B, N, C) tokens, checkpointed when ``with_cp`` and training."""
        if self.with_cp and torch.is_grad_enabled():
            return cp.checkpoint(self.blocks[i], x, use_reentrant=False)
        return self.blocks[i](x)

    def fuse_groups(self, x: torch.Tensor) -> torch.Tensor:
        """(B, t, h, w, C) tokens -> (B, C, h, w) map, merging the spectral groups."""
        if self.spectral_fusion == 'mean':
            y = x.mean(1)
        else:
            if x.shape[1] != self.num_groups:
                raise ValueError(f"spectral_fusion='linear' is made for {self.num_groups} spectral groups "
                                 f'(in_channels={self.in_channels}) but the input has {x.shape[1]}; build the '
                                 f"backbone with in_channels=<bands of the data> or use spectral_fusion='mean'")
            # Official: Linear(groups -> 1) on the group axis, i.e. a learned weighted sum plus bias.
            y = torch.einsum('bthwc,t->bhwc', x, self.spectral_fuse.weight[0]) + self.spectral_fuse.bias
        return y.permute(0, 3, 1, 2).contiguous()

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """x: (B, bands, H, W), any band count and size. Returns a tuple of NCHW maps, or of one (B, C)
        vector for 'avg_token' (see ``out_type``)."""
        tokens = self.tokenize(x)  # (B, t, h, w, C)
        b, t, h, w, c = tokens.shape
        x = tokens.flatten(1, 3) + self.get_pos_embed((t, h, w))  # (B, t * h * w, C), group-major
        if self.out_type == 'avg_token':
            for i in range(self.num_layers):
                x = self.run_block(i, x)
            # The official classifier averages x[:, 1:] (a cls-token idiom without a cls token).
            pooled = (x[:, 1:] if self.avg_skip_first_token else x).mean(1)
            return (self.norm(pooled), )
        outs = []
        for i in range(self.num_layers):
            x = self.run_block(i, x)
            if i in self.out_indices:
                y = self.norm(x) if self.final_norm and i == self.num_layers - 1 else x
                outs.append(self.fuse_groups(y.view(b, t, h, w, c)))
        if self.out_type == 'featmap':
            return tuple(outs)
        return tuple(branch(outs[-1]) for branch in self.pyramid)

    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """Layer id for layer-wise lr decay: patch/position embeddings (either layout) 0, block ``i`` ``i + 1``,
        everything else (final norm, fusion, pyramid, parameters outside ``prefix``) ``num_layers + 1``.

        Returns:
            (layer_id, num_layers + 2).
        """
        return columnar_layer_depth(param_name, prefix, self.num_layers)
