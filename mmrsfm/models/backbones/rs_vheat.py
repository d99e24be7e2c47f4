"""vHeat / RS-vHeat: backbones built from the heat conduction operator (HCO).

Re-implemented from the papers (vHeat, Wang et al., CVPR 2025, arXiv 2405.16555; RS-vHeat, Hu et al.,
ICCV 2025, arXiv 2411.17984) and their official code (``MzeroMiko/vHeat``:
``classification/models/vHeat.py``; ``iecashhy/RS-vHeat``: ``models/vHeat/RS_vHeat.py``). Module names
follow the official state-dict layout (``layers.{s}.{b}.op.*``, ``freq_embed.{s}``, ``heat_capacity.{s}``), so released
checkpoints load after the few renames in :mod:`mmrsfm.models.converters.rs_vheat`.

Fixed relative to the official code: any input size (the per-position embeddings FVE and SCE are
bilinearly resized to the runtime grid, once per stage, by two cached-matrix GEMMs), SAR and paired
optical/SAR stems selectable per call, and an inference re-parameterisation that keeps working (see
:meth:`RSvHeat.reparameterize`).

Speed and memory: everything runs channels-last, with the DCTs as GEMMs on bases cached as
non-persistent buffers (:class:`~mmrsfm.models.layers.BasisCache`). Inference on large maps (see
``low_memory_elems``) takes :mod:`~mmrsfm.models.backbones.rs_vheat_low_memory`: the stem and each
block in row strips, updating the map in place, so the peak is about two stage-1 maps instead of five.
"""
import math
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch import nn

from mmrsfm.registry import MODELS
from ..layers import BasisCache, LayerNorm2d, heat_diffusion_2d, resize_grid
from ..layers.patch_embed import adapt_stem_bands
from ..utils.arch import loads_pretrained, parse_arch, pretrained_to_init_cfg
from ..utils.layerwise import check_out_indices, freeze
from .rs_vheat_low_memory import LOW_MEMORY_ELEMS, low_memory_forward


class HeatConduction2d(nn.Module):
    """The HCO (official ``Heat2D``): DWConv -> Linear -> split (x, z) -> DCT -> decay -> IDCT
    -> LN -> x * SiLU(z) -> Linear.

    The decay is ``exp(-k * Omega)`` with thermal diffusivity ``k = ReLU(Linear(FVE))`` per frequency and
    channel. With ``spatial_correction`` (RS-vHeat) the input first gets the stage's SCE added, then
    ReLU and LayerNorm (``op.norm1``).

    Args:
        dim: Channels.
        spatial_correction: Build RS-vHeat's SCE normalisation. Defaults to False.
        cache_decay: Keep the last decay map for reuse under ``no_grad`` (one (H, W, C) tensor per
            block: more memory on large inputs). Defaults to False.
        bases: DCT/resampling matrices, shared by all operators of a backbone; a private cache if None.
    """

    def __init__(self, dim: int, spatial_correction: bool = False, cache_decay: bool = False,
                 bases: Optional[BasisCache] = None) -> None:
        super().__init__()
        self.cache_decay = cache_decay
        self.bases = bases if bases is not None else BasisCache()
        if spatial_correction:
            self.norm1 = LayerNorm2d(dim)
        self.dwconv = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.linear = nn.Linear(dim, 2 * dim)
        self.out_norm = nn.LayerNorm(dim)
        self.out_linear = nn.Linear(dim, dim)
        self.to_k = nn.Sequential(nn.Linear(dim, dim), nn.ReLU())
        self.register_buffer('fixed_decay', None, persistent=False)  # set by reparameterize()
        self._decay_cache: Optional[Tuple[tuple, torch.Tensor]] = None

    def decay(self, fve: Optional[torch.Tensor], h: int, w: int) -> torch.Tensor:
        """(H, W, C) decay factors for an H x W grid. Recomputed only when the grid or the FVE/``to_k``
        parameters changed (tracked by their in-place version counters) or when gradients are needed."""
        if self.fixed_decay is not None:
            if tuple(self.fixed_decay.shape[:2]) != (h, w):
                raise ValueError(f'this re-parameterised HCO was fixed for a {tuple(self.fixed_decay.shape[:2])} '
                                 f'grid but got {(h, w)}; call reparameterize() with this input size')
            return self.fixed_decay
        use_cache = self.cache_decay and not torch.is_grad_enabled()
        if use_cache:
            lin = self.to_k[0]
            key = (h, w, fve.device, fve.dtype, fve._version, lin.weight._version, lin.bias._version, id(fve))
            if self._decay_cache is not None and self._decay_cache[0] == key:
                return self._decay_cache[1]
        k = self.to_k(resize_grid(fve, (h, w), self.bases))  # (H, W, C) thermal diffusivity
        # -Omega (H, W, 1), cached; at least float32 (a bf16 k multiplies in float32, as the official code)
        neg_omega = self.bases.neg_penalty(h, w, fve.device, torch.promote_types(k.dtype, torch.float32))
        decay = torch.exp(k * neg_omega)
        if use_cache:
            self._decay_cache = (key, decay)
        return decay

    def forward(self, x: torch.Tensor, fve: Optional[torch.Tensor],
                sce: Optional[torch.Tensor] = None) -> torch.Tensor:
        """x: (B, H, W, C) channels-last; fve, sce: (H_s, W_s, C) stage embeddings (resized to H x W;
        the backbone passes them already resized once per stage).

        Everything runs channels-last: the depthwise conv sees a channels_last-strided NCHW view
        (no copy), the linears and LayerNorms act on the last axis, the DCTs are plain GEMMs.
        """
        _, h, w, c = x.shape
        if sce is not None:
            x = self.norm1.channels_last(F.relu(x + resize_grid(sce, (h, w), self.bases)))
        x = self.dwconv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        # The two halves of the official Linear(C, 2C) as separate GEMMs: each output is contiguous,
        # so the DCT needs no copy of a strided chunk. (B, H, W, C) each.
        w_in, b_in = self.linear.weight, self.linear.bias
        z = F.linear(x, w_in[c:], b_in[c:])
        x = heat_diffusion_2d(F.linear(x, w_in[:c], b_in[:c]), self.decay(fve, h, w), self.bases)
        x = self.out_norm(x) * F.silu(z)
        return self.out_linear(x)

class Mlp2d(nn.Module):
    """1x1-conv MLP (``fc1`` -> GELU -> ``fc2``), applied to (B, H, W, C) as linears on the 1x1 conv
    weights (the official parameter layout, without a layout change per call)."""

    def __init__(self, dim: int, ratio: float = 4.0) -> None:
        super().__init__()
        hidden = int(dim * ratio)
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(F.linear(x, self.fc1.weight.flatten(1), self.fc1.bias))
        return F.linear(x, self.fc2.weight.flatten(1), self.fc2.bias)


class HeatBlock(nn.Module):
    """HCO + MLP residual block; post-norm with layer scale (S/B) or pre-norm without (T)."""

    def __init__(self, dim: int, drop_path: float = 0., post_norm: bool = True,
                 layer_scale: Optional[float] = 1e-5, spatial_correction: bool = False,
                 mlp_ratio: float = 4.0, with_cp: bool = False, cache_decay: bool = False,
                 bases: Optional[BasisCache] = None) -> None:
        super().__init__()
        self.post_norm, self.with_cp = post_norm, with_cp
        self.norm1 = LayerNorm2d(dim)
        self.op = HeatConduction2d(dim, spatial_correction, cache_decay, bases)
        self.norm2 = LayerNorm2d(dim)
        self.mlp = Mlp2d(dim, mlp_ratio)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        if layer_scale is not None:
            self.gamma1 = nn.Parameter(torch.full((dim, ), float(layer_scale)))
            self.gamma2 = nn.Parameter(torch.full((dim, ), float(layer_scale)))
        else:
            self.gamma1 = self.gamma2 = None

    def _residual(self, x: torch.Tensor, y: torch.Tensor, gamma: Optional[torch.Tensor]) -> torch.Tensor:
        """``x + drop_path(gamma * y)``; one fused pass (addcmul) when drop path is inactive."""
        if gamma is None:
            return x + self.drop_path(y)
        if not self.training or isinstance(self.drop_path, nn.Identity):
            return torch.addcmul(x, gamma, y)  # channels-last: gamma broadcasts over C
        return x + self.drop_path(gamma * y)

    def _forward(self, x: torch.Tensor, fve: Optional[torch.Tensor], sce: Optional[torch.Tensor]):
        """x: (B, H, W, C) channels-last."""
        if self.post_norm:
            x = self._residual(x, self.norm1.channels_last(self.op(x, fve, sce)), self.gamma1)
            return self._residual(x, self.norm2.channels_last(self.mlp(x)), self.gamma2)
        x = self._residual(x, self.op(self.norm1.channels_last(x), fve, sce), self.gamma1)
        return self._residual(x, self.mlp(self.norm2.channels_last(x)), self.gamma2)

    def _prefetch_bases(self, x: torch.Tensor, fve: Optional[torch.Tensor]) -> None:
        """Create the DCT (and FVE resampling) matrices the HCO needs before activation checkpointing:
        a buffer registered inside the checkpointed function is a side effect torch.compile cannot
        trace there (a graph break). Lookups only once they exist; the maths is unchanged."""
        _, h, w, _ = x.shape
        bases = self.op.bases
        dtypes = {x.dtype}
        if torch.is_autocast_enabled(x.device.type):  # the HCO's linears then output the autocast dtype
            dtypes.add(torch.get_autocast_dtype(x.device.type))
        for dtype in dtypes:
            bases.dct(h, x.device, dtype)
            bases.dct(w, x.device, dtype)
        if fve is not None:
            bases.neg_penalty(h, w, fve.device, torch.promote_types(fve.dtype, torch.float32))
        if fve is not None and tuple(fve.shape[:2]) != (h, w):  # raw FVE (cache_decay)
            bases.bilinear(h, fve.shape[0], fve.device, fve.dtype)
            bases.bilinear(w, fve.shape[1], fve.device, fve.dtype)

    def forward(self, x: torch.Tensor, fve: Optional[torch.Tensor],
                sce: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            self._prefetch_bases(x, fve)
            return cp.checkpoint(self._forward, x, fve, sce, use_reentrant=False)
        return self._forward(x, fve, sce)


class ConvStem(nn.Module):
    """Stride-4 stem (InternImage style): conv3x3/2 -> LN -> GELU -> conv3x3/2 -> LN."""

    def __init__(self, in_channels: int, dim: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, dim // 2, 3, stride=2, padding=1)
        self.norm1 = LayerNorm2d(dim // 2)
        self.act = nn.GELU()
        self.conv2 = nn.Conv2d(dim // 2, dim, 3, stride=2, padding=1)
        self.norm2 = LayerNorm2d(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm2(self.conv2(self.act(self.norm1(self.conv1(x)))))

@MODELS.register_module()
class RSvHeat(BaseModule):
    """RS-vHeat backbones (and the vHeat ones it builds on): four stages of heat conduction blocks.

    Args:
        arch: A name in :attr:`arch_zoo` (``'tiny'``, ``'small'``, ``'base'``, ``'rs-base'``) or a dict
            with keys ``embed_dims`` (stage-0 width; stage ``s`` has ``embed_dims * 2**s``), ``depths``,
            ``post_norm``, ``layer_scale``, ``spatial_correction``. The key ``embed_dim`` (v0.1) is
            still read, with a deprecation warning.
        in_channels: Input bands; an int for one stem, or a dict ``{modality: bands}`` for one stem per
            modality (e.g. ``dict(opt=3, sar=1)`` for paired optical/SAR pretraining). Defaults to 3.
        img_size: Design input size; FVE/SCE are stored at ``img_size / 4 / 2**s`` per stage and
            resized to any runtime grid. Defaults to 224.
        out_indices: Stages whose outputs are returned, each through its own LayerNorm (``outnorm{i}``).
        frozen_stages: Freeze the stem and stages ``0..frozen_stages-1`` (and their embeddings); once all
            stages are frozen, the output norms (``outnorm{i}``) too, so that ``frozen_stages=4`` freezes
            the whole encoder, as linear probing needs; -1 off.
        drop_path_rate: Stochastic depth, linearly increasing over blocks.
        with_cp: Activation checkpointing per block.
        cache_decay: Reuse each block's decay map across inference calls until the grid or the
            parameters change. Off by default: measured on CPU it saved no time (recomputing
            ``exp(-k * Omega)`` is cheap next to the DCT GEMMs) but held one (H, W, C) map per block,
            +1.0 GB for RS-vHeat-B at 2048^2. For fixed-size deployment use :meth:`reparameterize`.
        low_memory_elems: Without autograd, stem and stages whose map has at least this many elements
            per image run in row strips, updating the map in place
            (:mod:`~mmrsfm.models.backbones.rs_vheat_low_memory`):
            peak memory of about two maps instead of about five, same outputs (up to float rounding).
            An int applies on every device; a dict gives it per device type, with ``'default'`` for
            the others. The default, ``dict(cpu=2**22, default=2**25)``: on CPU from 16 MB fp32 maps on
            (stage 1 of RS-vHeat-B from 1024^2 inputs); on GPUs from 128 MB maps on (2048^2 inputs),
            since every strip there costs kernel launches (at 1024^2 the strips would double the
            launches per image, while the plain path needs ~170 MB per image). None disables it;
            training and ``torch.enable_grad()`` always take the plain path.
        checkpoint_stem: For a single-stem model loading a multi-stem checkpoint (paired optical/SAR
            pretraining): the stem to load, e.g. ``'sar'`` for polarimetric SAR input whose band count
            matches no stem. Defaults to None: the stem with ``in_channels`` bands, else the one with the
            most bands. Its first conv is then adapted to ``in_channels`` (:meth:`_adapt_stem_bands`).
        init_cfg: mmengine init config, e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
    """
    arch_zoo = {
        **dict.fromkeys(['t', 'tiny'], dict(embed_dims=96, depths=(2, 2, 6, 2), post_norm=False,
                                            layer_scale=None, spatial_correction=False)),
        **dict.fromkeys(['s', 'small'], dict(embed_dims=96, depths=(2, 2, 18, 2), post_norm=True,
                                             layer_scale=1e-5, spatial_correction=False)),
        **dict.fromkeys(['b', 'base'], dict(embed_dims=128, depths=(2, 2, 18, 2), post_norm=True,
                                            layer_scale=1e-5, spatial_correction=False)),
        # RS-vHeat: vHeat-B plus a spatial correction embedding (SCE, "heat capacity") per stage.
        **dict.fromkeys(['rs-base', 'rs_vheat_base'], dict(embed_dims=128, depths=(2, 2, 18, 2), post_norm=True,
                                                           layer_scale=1e-5, spatial_correction=True)),
    }
    essential_keys = {'embed_dims', 'depths', 'post_norm', 'layer_scale', 'spatial_correction'}

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 in_channels: Union[int, Dict[str, int]] = 3,
                 img_size: Union[int, Sequence[int]] = 224,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 drop_path_rate: float = 0.,
                 mlp_ratio: float = 4.0,
                 with_cp: bool = False,
                 cache_decay: bool = False,
                 low_memory_elems: Union[int, Dict[str, int], None] = LOW_MEMORY_ELEMS,
                 checkpoint_stem: Optional[str] = None,
                 init_cfg: Optional[dict] = None,
                 pretrained: Optional[str] = None) -> None:
        super().__init__(init_cfg=pretrained_to_init_cfg(pretrained, init_cfg, type(self).__name__))
        self.arch_settings = self._parse_arch(arch)
        dim, depths = self.arch_settings['embed_dims'], tuple(self.arch_settings['depths'])
        self.embed_dims, self.depths, self.num_stages = dim, depths, len(depths)
        self.stage_channels = tuple(dim * 2**i for i in range(self.num_stages))
        self.out_indices = check_out_indices(out_indices, self.num_stages, 'stage')
        self.out_channels = tuple(self.stage_channels[i] for i in self.out_indices)
        self.frozen_stages, self.with_cp = frozen_stages, with_cp
        self.checkpoint_stem = checkpoint_stem

        # One stem per modality; a single stem keeps the plain vHeat key ``patch_embed``.
        if isinstance(in_channels, int):
            self.modalities: Dict[str, int] = {'': in_channels}
            self.patch_embed = ConvStem(in_channels, dim)
        else:
            if not in_channels:
                raise ValueError('in_channels dict must name at least one modality, e.g. dict(opt=3)')
            self.modalities = dict(in_channels)
            for name, bands in self.modalities.items():
                self.add_module(f'patch_embed_{name}', ConvStem(bands, dim))

        h, w = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        grids = [(math.ceil(h / 4 / 2**s), math.ceil(w / 4 / 2**s)) for s in range(self.num_stages)]
        self.freq_embed = nn.ParameterList(
            [nn.Parameter(torch.zeros(gh, gw, c)) for (gh, gw), c in zip(grids, self.stage_channels)])
        self.heat_capacity = nn.ParameterList(
            [nn.Parameter(torch.zeros(gh, gw, c)) for (gh, gw), c in zip(grids, self.stage_channels)]
        ) if self.arch_settings['spatial_correction'] else None

        self.cache_decay, self.low_memory_elems = cache_decay, low_memory_elems
        self.bases = BasisCache()  # DCT/resampling matrices shared by every operator (non-persistent)
        n_blocks = sum(depths)  # python floats: the model may be built on the meta device
        dpr = [drop_path_rate * i / max(n_blocks - 1, 1) for i in range(n_blocks)]
        self.layers = nn.ModuleList()
        for s, (depth, c) in enumerate(zip(depths, self.stage_channels)):
            blocks: List[nn.Module] = [
                HeatBlock(c, dpr[sum(depths[:s]) + b], self.arch_settings['post_norm'],
                          self.arch_settings['layer_scale'], self.arch_settings['spatial_correction'],
                          mlp_ratio, with_cp, cache_decay, self.bases) for b in range(depth)
            ]
            # Downsample is the stage's last element (official key ``layers.{s}.{depth}``).
            blocks.append(nn.Sequential(nn.Conv2d(c, 2 * c, 3, 2, 1, bias=False), LayerNorm2d(2 * c))
                          if s < self.num_stages - 1 else nn.Identity())
            self.layers.append(nn.ModuleList(blocks))
        for i in self.out_indices:
            self.add_module(f'outnorm{i}', LayerNorm2d(self.stage_channels[i]))
        self._register_load_state_dict_pre_hook(self._adapt_checkpoint_on_load)
        self._freeze_stages()

    def _adapt_checkpoint_on_load(self, state_dict: dict, prefix: str, *args) -> None:
        """Make a pretraining checkpoint load into a downstream model with no manual step.

        - A single-stem model (``patch_embed``) loading a multi-stem checkpoint (``patch_embed_opt``,
          ``patch_embed_sar`` from paired pretraining) takes the stem whose band count matches its
          ``in_channels`` and drops the others (logged).
        - A stem whose first conv was trained on another band count (e.g. RGB pretraining, 13-band
          Sentinel-2 fine-tuning) is adapted (:meth:`_adapt_stem_bands`).
        - FVE/SCE grids of another design size are resized (:meth:`_resize_embeddings`).

        An algorithm checkpoint (keys ``backbone.layers...``, e.g. the pretrainer's) loaded without
        ``prefix='backbone.'`` would load nothing (mmengine loads non-strictly): that is an error here.
        """
        if not any(k.startswith(f'{prefix}layers.') for k in state_dict) and \
                any(k.startswith(f'{prefix}backbone.layers.') for k in state_dict):
            raise KeyError("RSvHeat: the checkpoint's backbone keys start with 'backbone.' (a whole-model or "
                           "pretrainer checkpoint), so nothing would load. Fix: init_cfg=dict(type='Pretrained', "
                           "checkpoint=..., prefix='backbone.').")
        if '' in self.modalities and f'{prefix}patch_embed.conv1.weight' not in state_dict:
            bands = self.modalities['']
            stems = {k[len(prefix):].split('.')[0] for k in state_dict
                     if k.startswith(f'{prefix}patch_embed_') and k.endswith('conv1.weight')}
            match = [s for s in stems if state_dict[f'{prefix}{s}.conv1.weight'].shape[1] == bands]
            if self.checkpoint_stem is not None and stems:
                wanted = f'patch_embed_{self.checkpoint_stem}'
                if wanted not in stems:
                    raise KeyError(f'RSvHeat: checkpoint_stem={self.checkpoint_stem!r} but the checkpoint has stems '
                                   f'{sorted(stems)}. Fix: name one of those (without patch_embed_), or None.')
                match = [wanted]
            if not match and stems:  # no stem with this band count: start from the one with the most bands
                match = [max(sorted(stems), key=lambda s: state_dict[f'{prefix}{s}.conv1.weight'].shape[1])]
            if len(match) == 1:
                for key in [k for k in state_dict if k[len(prefix):].split('.')[0] in stems]:
                    value = state_dict.pop(key)
                    if key[len(prefix):].startswith(match[0] + '.'):
                        state_dict[prefix + 'patch_embed' + key[len(prefix) + len(match[0]):]] = value
                print_log(f'RSvHeat: loaded stem {match[0]} as patch_embed ({bands} bands); '
                          f'dropped {sorted(stems - set(match))}', logger='current')
        self._adapt_stem_bands(state_dict, prefix)
        self._resize_embeddings(state_dict, prefix)

    def _adapt_stem_bands(self, state_dict: dict, prefix: str) -> None:
        """Give a checkpoint stem trained on ``n`` bands this model's band count ``m``: every input
        channel of the first conv gets the mean of the ``n`` trained kernels, scaled by ``n / m`` so a
        constant input gives the same response. Logged; a common start for multispectral fine-tuning
        from RGB (or SAR) pretraining."""
        for name, bands in self.modalities.items():
            key = f'{prefix}{"patch_embed" if name == "" else "patch_embed_" + name}.conv1.weight'
            adapt_stem_bands(state_dict, key, bands, 'RSvHeat')

    def _resize_embeddings(self, state_dict: dict, prefix: str) -> None:
        """Bilinearly resize checkpoint FVE/SCE grids to this model's ``img_size`` (as RS-vHeat's
        fine-tuning does; vHeat's own converter zero-pads instead, which we do not copy: a resized FVE
        keeps each value at the same normalised frequency, and the runtime resizing does the same)."""
        for name in ('freq_embed', 'heat_capacity'):
            params = getattr(self, name, None)
            if not isinstance(params, nn.ParameterList):
                continue
            for s, param in enumerate(params):
                key = f'{prefix}{name}.{s}'
                value = state_dict.get(key)
                if value is not None and value.shape != param.shape and value.shape[2] == param.shape[2]:
                    state_dict[key] = resize_grid(value.float(), tuple(param.shape[:2])).to(value.dtype)

    def _parse_arch(self, arch: Union[str, dict]) -> dict:
        if isinstance(arch, dict) and 'embed_dim' in arch and 'embed_dims' not in arch:
            warnings.warn("RSvHeat arch key 'embed_dim' is deprecated; use 'embed_dims' (removed in v0.3)",
                          FutureWarning, stacklevel=3)
            arch = {('embed_dims' if k == 'embed_dim' else k): v for k, v in arch.items()}
        arch = parse_arch(arch, self.arch_zoo, self.essential_keys)
        if len(arch['depths']) < 1 or any(int(d) < 1 for d in arch['depths']):
            raise ValueError(f"custom arch depths must be positive ints, got {arch['depths']}")
        return dict(arch)

    def init_weights(self) -> None:
        super().init_weights()
        if loads_pretrained(self.init_cfg):
            return
        for embeds in (self.freq_embed, self.heat_capacity or []):
            for p in embeds:
                trunc_normal_(p, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _freeze_stages(self) -> None:
        """Freeze the stems and stages ``0..frozen_stages-1`` with their FVE/SCE (and the output
        norms once every stage is frozen; -1: nothing)."""
        if self.frozen_stages < 0:
            return
        n = min(self.frozen_stages, self.num_stages)
        # Output norms have the last layer-decay id, so they join only when every stage is frozen.
        outnorms = [getattr(self, f'outnorm{i}') for i in self.out_indices] if n >= self.num_stages else []
        freeze(*[m for name, m in self.named_children() if name.startswith('patch_embed')], *self.layers[:n],
               *outnorms)
        for embeds in (self.freq_embed, self.heat_capacity):
            if isinstance(embeds, nn.ParameterList):
                freeze(*embeds[:n])

    def train(self, mode: bool = True) -> 'RSvHeat':
        super().train(mode)
        self._freeze_stages()
        return self

    @property
    def input_bands(self) -> Tuple[int, ...]:
        """Band counts this backbone accepts (one per stem)."""
        return tuple(sorted(set(self.modalities.values())))

    def stem(self, modality: Optional[str]) -> nn.Module:
        """The stem for ``modality`` (``None`` when there is a single stem)."""
        if '' in self.modalities:
            return self.patch_embed
        if modality not in self.modalities:
            raise ValueError(f'this backbone has stems for {sorted(self.modalities)}; pass '
                             f'modality=<one of them>, got {modality!r}')
        return getattr(self, f'patch_embed_{modality}')

    @property
    def dims(self) -> Tuple[int, ...]:
        """Deprecated (v0.1) name of :attr:`stage_channels`."""
        warnings.warn('RSvHeat.dims is deprecated; use stage_channels (or out_channels for the outputs)',
                      FutureWarning, stacklevel=2)
        return self.stage_channels

    def forward(self, x: torch.Tensor, modality: Optional[str] = None) -> Tuple[torch.Tensor, ...]:
        """x: (B, bands, H, W), any H and W; ``modality`` picks the stem when there are several (by
        default the one whose band count matches). Returns the ``out_indices`` stage maps
        (B, C_s, H/4/2^s, W/4/2^s)."""
        if modality is None and '' not in self.modalities:
            match = [m for m, c in self.modalities.items() if c == x.shape[1]]
            modality = match[0] if len(match) == 1 else None
        stem = self.stem(modality)
        if self.takes_low_memory_path(x.shape[-2] * x.shape[-1] // 16 * self.embed_dims, x.device):  # stem output
            return low_memory_forward(self, stem, x)
        # A channels_last input makes every stem op (convs, LayerNorm2d) copy-free; the stem's output
        # is then already (B, H, W, C)-contiguous.
        x = stem(x.contiguous(memory_format=torch.channels_last)).permute(0, 2, 3, 1).contiguous()
        return self.forward_stages(x)

    def forward_stages(self, x: torch.Tensor, first: int = 0,
                       outs: Sequence[torch.Tensor] = ()) -> Tuple[torch.Tensor, ...]:
        """Stages ``first..`` on a (B, H, W, C) channels-last map; ``outs``: outputs of earlier stages."""
        outs = list(outs)
        for s in range(first, self.num_stages):
            stage = self.layers[s]
            fve, sce = self.stage_embeddings(s)
            # Resize the stage's embeddings once for all its blocks. With cache_decay the raw FVE goes
            # to the operators, whose decay cache is keyed on it (and skips the resize on a hit).
            grid = tuple(x.shape[1:3])
            if fve is not None and not self.cache_decay:
                fve = resize_grid(fve, grid, self.bases)
            sce = resize_grid(sce, grid, self.bases) if sce is not None else None
            for block in stage[:-1]:
                x = block(x, fve, sce)
            if s in self.out_indices:  # its LayerNorm, as an NCHW-contiguous map for dense heads
                outs.append(getattr(self, f'outnorm{s}').channels_last(x).permute(0, 3, 1, 2).contiguous())
            if s < self.num_stages - 1:  # conv on a channels_last-strided NCHW view, then LayerNorm2d
                conv, norm = stage[-1]
                x = norm.channels_last(conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)).contiguous()
        return tuple(outs)

    def stage_embeddings(self, s: int) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """Stage ``s``'s raw FVE (None once re-parameterised) and SCE (None without spatial correction)."""
        fve = self.freq_embed[s] if self.freq_embed is not None else None
        sce = self.heat_capacity[s] if self.heat_capacity is not None else None
        return fve, sce

    def takes_low_memory_path(self, elems_per_image: int, device: torch.device) -> bool:
        """Whether a map of this size on ``device`` runs in row strips (inference only, see
        ``low_memory_elems``)."""
        limit = self.low_memory_elems
        if isinstance(limit, dict):
            limit = limit.get(torch.device(device).type, limit.get('default'))
        return limit is not None and not torch.is_grad_enabled() and elems_per_image >= limit

    @torch.no_grad()
    def reparameterize(self, input_size: Tuple[int, int]) -> None:
        """Inference mode: precompute every block's decay for ``input_size`` and drop FVE/``to_k``.

        Outputs stay identical for inputs of that size; other sizes raise a clear error. The official
        ``infer_init`` (``RS_vHeat.py``) does the same, but its forward then still calls the removed
        ``to_k`` and crashes.
        """
        h, w = math.ceil(input_size[0] / 4), math.ceil(input_size[1] / 4)
        for s, stage in enumerate(self.layers):
            for block in stage[:-1]:
                block.op.fixed_decay = block.op.decay(self.freq_embed[s], h, w).detach().clone()
                del block.op.to_k
            h, w = math.ceil(h / 2), math.ceil(w / 2)  # conv3x3/2 with padding 1
        # No FVE any more (stage_embeddings() then gives None); the attribute stays a registered
        # module slot, so state_dict() and .to() keep working.
        self.freq_embed = None

    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """Layer id for layer-wise lr decay: stem 0, block ``i`` (global index) ``i + 1``, a stage's
        downsample and embeddings with its last / first block, output norms last."""
        num_layers = sum(self.depths) + 2
        if not param_name.startswith(prefix):
            return num_layers - 1, num_layers
        name = param_name[len(prefix):]
        if name.startswith('patch_embed'):
            return 0, num_layers
        if name.startswith(('freq_embed.', 'heat_capacity.')):
            return sum(self.depths[:int(name.split('.')[1])]) + 1, num_layers
        if name.startswith('layers.'):
            s, b = (int(v) for v in name.split('.')[1:3])
            return sum(self.depths[:s]) + min(b, self.depths[s] - 1) + 1, num_layers
        return num_layers - 1, num_layers


@MODELS.register_module()
class HeatConductionNet(RSvHeat):
    """Deprecated (v0.1) name of :class:`RSvHeat`, kept for old configs until v0.3; same arguments,
    same state-dict layout."""

    def __init__(self, *args, **kwargs) -> None:
        warnings.warn("'HeatConductionNet' is renamed 'RSvHeat'; update type='mmrsfm.HeatConductionNet' in "
                      'your config (the old name goes in v0.3)', FutureWarning, stacklevel=2)
        super().__init__(*args, **kwargs)
