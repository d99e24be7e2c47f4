"""vHeat / RS-vHeat: backbones built from the heat conduction operator (HCO).

Re-implemented from the papers (vHeat, CVPR 2025; RS-vHeat, ICCV 2025) and the maths in
``shared/docs/REFERENCE.md`` §1–2. Module names follow the official ``vHeat.py`` / ``RS_vHeat.py``
state-dict layout (``layers.{s}.{b}.op.*``, ``freq_embed.{s}``, ``heat_capacity.{s}``), so released
checkpoints load after the few renames in :mod:`mmrsfm.models.utils.ckpt_convert`.

Fixed relative to the official code: any input size (the per-position embeddings FVE and SCE are
bilinearly resized to the runtime grid, once per stage, by two cached-matrix GEMMs), SAR and paired
optical/SAR stems selectable per call, and an inference re-parameterisation that keeps working (see
:meth:`HeatConductionNet.reparameterize`).

Speed and memory: everything runs channels-last, with the DCTs as GEMMs on bases cached as
non-persistent buffers (:class:`~mmrsfm.models.layers.BasisCache`). Inference on large maps (see
``low_memory_elems``) runs the stem and each block in row strips and updates the map in place, so the
peak is about two stage-1 maps instead of about five.
"""
import math
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
from ..layers import (BasisCache, LayerNorm2d, dct_matrix, heat_diffusion_2d, resize_grid,
                      separable_2d_channels_last, separable_2d_channels_last_)
from ..layers.patch_embed import adapt_stem_bands
from ..utils.arch import parse_arch


def frequency_penalty(h: int, w: int, device=None) -> torch.Tensor:
    """Omega[n, m] = (pi n / H)^2 + (pi m / W)^2, the Laplacian's eigenvalue of cosine mode (n, m)."""
    wn = torch.linspace(0, math.pi, h + 1, device=device)[:h]
    wm = torch.linspace(0, math.pi, w + 1, device=device)[:w]
    return wn[:, None]**2 + wm[None, :]**2


#: Elements per strip of the low-memory inference path on CPU (8 MB of fp32: stays in cache).
STRIP_ELEMS = 2**21
#: At most this many strips per map on GPUs, where each strip costs kernel launches, not cache misses.
GPU_MAX_STRIPS = 8


def row_strips(h: int, row_elems: int, device: torch.device) -> List[Tuple[int, int]]:
    """``(start, stop)`` row ranges covering ``range(h)``: about :data:`STRIP_ELEMS` elements each on
    CPU, at most :data:`GPU_MAX_STRIPS` of them on other devices."""
    step = max(1, STRIP_ELEMS // max(row_elems, 1))
    if device.type != 'cpu':
        step = max(step, -(-h // GPU_MAX_STRIPS))
    return [(i, min(h, i + step)) for i in range(0, h, step)]


def resize_rows(embed: torch.Tensor, size: Tuple[int, int], start: int, stop: int,
                bases: BasisCache) -> torch.Tensor:
    """Rows ``[start, stop)`` of ``resize_grid(embed, size)`` without building the full map.

    For the inference-only strip path, so the result is detached: a view of a Parameter taken under
    ``no_grad`` still claims ``requires_grad`` without a grad_fn, which module hooks (e.g. torch's
    FlopCounterMode) reject.
    """
    embed = embed.detach()
    if tuple(embed.shape[:2]) == tuple(size):
        return embed[start:stop]
    m_h = bases.bilinear(size[0], embed.shape[0], embed.device, embed.dtype)[start:stop]
    m_w = bases.bilinear(size[1], embed.shape[1], embed.device, embed.dtype)
    return separable_2d_channels_last(embed[None], m_h, m_w)[0]


def conv3x3_rows(x: torch.Tensor, conv: nn.Conv2d, start: int, stop: int, offset: int = 0,
                 total: Optional[int] = None, pre=None) -> torch.Tensor:
    """Output rows ``[start, stop)`` of a 3x3, padding-1 ``conv`` (any stride, groups) applied to
    ``pre(map)``, reading only the input rows they need.

    Args:
        x: (B, rows, W, C) channels-last rows ``[offset, offset + rows)`` of a map with ``total`` rows
            (default: ``x`` is the whole map).
        pre: Optional per-row transform ``pre(rows, row_start, row_stop)`` applied before the conv
            (e.g. a LayerNorm), so a strip pipeline never materialises its full-size output.

    Returns:
        (B, stop - start, W_out, C_out), contiguous.
    """
    total = x.shape[1] + offset if total is None else total
    s = conv.stride[0]
    lo, hi = s * start - 1, s * (stop - 1) + 2  # input rows of the 3-row windows, padding included
    a, b = max(lo, 0), min(hi, total)
    if a < offset or b > offset + x.shape[1]:
        raise ValueError(f'output rows [{start}, {stop}) needs input rows [{a}, {b}) but x holds '
                         f'[{offset}, {offset + x.shape[1]})')
    strip = x[:, a - offset:b - offset]
    if pre is not None:
        strip = pre(strip, a, b)
    if a - lo or hi - b:  # the conv's zero padding at the top/bottom border of the map
        strip = F.pad(strip, (0, 0, 0, 0, a - lo, hi - b))
    out = F.conv2d(strip.permute(0, 3, 1, 2), conv.weight, conv.bias, conv.stride, (0, 1), groups=conv.groups)
    return out.permute(0, 2, 3, 1).contiguous()


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
        decay = torch.exp(-k * frequency_penalty(h, w, fve.device)[..., None])
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

    def _decay_rows(self, fve: Optional[torch.Tensor], h: int, w: int, start: int, stop: int) -> torch.Tensor:
        """Rows ``[start, stop)`` of :meth:`decay` from the stage's raw FVE (no full-size temporaries)."""
        if self.fixed_decay is not None:
            return self.decay(fve, h, w)[start:stop]
        k = self.to_k(resize_rows(fve, (h, w), start, stop, self.bases))
        return torch.exp(-k * frequency_penalty(h, w, fve.device)[start:stop, :, None])

    def forward_lean(self, x: torch.Tensor, fve: Optional[torch.Tensor], sce: Optional[torch.Tensor],
                     pre=None) -> torch.Tensor:
        """Inference-only ``forward(pre(x))`` whose peak memory is ``x`` plus one output map.

        x: (B, H, W, C); fve, sce: the stage's raw (unresized) embeddings; ``pre``: a per-row transform
        of ``x`` (the block's pre-norm). The map goes through in row strips: DWConv (with a one-row
        halo) and the input linear write into one buffer, the DCTs transform it in place, and the
        gate branch (DWConv and linear again, recomputed rather than stored) and the output linear
        write back into it. About 5% more FLOPs than :meth:`forward`, for 1/3 of its peak memory.
        """
        b, h, w, c = x.shape
        w_in, b_in = self.linear.weight, self.linear.bias

        def prep(rows: torch.Tensor, r0: int, r1: int) -> torch.Tensor:  # x rows [r0, r1) -> op input
            rows = pre(rows) if pre is not None else rows
            if sce is None:
                return rows
            return self.norm1.channels_last(F.relu(rows + resize_rows(sce, (h, w), r0, r1, self.bases)))

        strips = row_strips(h, b * w * 4 * c, x.device)
        u = x.new_empty(b, h, w, c)
        for i, j in strips:
            u[:, i:j] = F.linear(conv3x3_rows(x, self.dwconv, i, j, pre=prep), w_in[:c], b_in[:c])
        c_h, c_w = dct_matrix(h, x.device, x.dtype, self.bases), dct_matrix(w, x.device, x.dtype, self.bases)
        separable_2d_channels_last_(u, c_h, c_w, STRIP_ELEMS)
        for i, j in strips:
            u[:, i:j] *= self._decay_rows(fve, h, w, i, j).to(u.dtype)
        separable_2d_channels_last_(u, c_h.t(), c_w.t(), STRIP_ELEMS)
        for i, j in strips:
            z = F.linear(conv3x3_rows(x, self.dwconv, i, j, pre=prep), w_in[c:], b_in[c:])
            u[:, i:j] = self.out_linear(self.out_norm(u[:, i:j]) * F.silu(z))
        return u


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

    def forward_inplace_(self, x: torch.Tensor, fve: Optional[torch.Tensor],
                         sce: Optional[torch.Tensor]) -> torch.Tensor:
        """Inference-only forward that updates ``x`` (B, H, W, C) in place, strip by strip, with the
        HCO's low-memory path; fve, sce are the stage's raw embeddings. Peak: two maps."""
        b, h, w, c = x.shape
        strips = row_strips(h, b * w * 4 * c, x.device)

        def residual_(i: int, j: int, y: torch.Tensor, gamma: Optional[torch.Tensor]) -> None:
            if gamma is None:
                x[:, i:j].add_(y)
            else:
                x[:, i:j].addcmul_(gamma, y)

        # post-norm: x + g * norm(f(x)); pre-norm: x + g * f(norm(x)) (the op applies norm1 per strip)
        y = self.op.forward_lean(x, fve, sce, pre=None if self.post_norm else self.norm1.channels_last)
        for i, j in strips:
            residual_(i, j, self.norm1.channels_last(y[:, i:j]) if self.post_norm else y[:, i:j], self.gamma1)
        del y
        for i, j in strips:
            rows = x[:, i:j]
            if self.post_norm:
                residual_(i, j, self.norm2.channels_last(self.mlp(rows)), self.gamma2)
            else:
                residual_(i, j, self.mlp(self.norm2.channels_last(rows)), self.gamma2)
        return x

    def forward(self, x: torch.Tensor, fve: Optional[torch.Tensor],
                sce: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
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

    def forward_lean(self, x: torch.Tensor) -> torch.Tensor:
        """Inference-only forward in row strips: (B, bands, H, W) -> (B, H/4, W/4, C) channels-last,
        never holding the full stride-2 map (at 2048^2 it is 268 MB, the largest of the network)."""
        x = x.permute(0, 2, 3, 1)  # (B, H, W, bands) view
        h1, w1 = (x.shape[1] + 1) // 2, (x.shape[2] + 1) // 2
        h2, w2 = (h1 + 1) // 2, (w1 + 1) // 2
        out = x.new_empty(x.shape[0], h2, w2, self.conv2.out_channels)
        for i, j in row_strips(h2, x.shape[0] * w1 * self.conv1.out_channels * 2, x.device):
            a, b = max(2 * i - 1, 0), min(2 * (j - 1) + 2, h1)  # stride-2 rows conv2 needs
            y = self.act(self.norm1.channels_last(conv3x3_rows(x, self.conv1, a, b)))
            out[:, i:j] = self.norm2.channels_last(conv3x3_rows(y, self.conv2, i, j, offset=a, total=h1))
        return out


@MODELS.register_module()
class HeatConductionNet(BaseModule):
    """vHeat and RS-vHeat backbones.

    Args:
        arch: A name in :attr:`arch_zoo` (``'tiny'``, ``'small'``, ``'base'``, ``'rs-base'``) or a dict
            with keys ``embed_dim``, ``depths``, ``post_norm``, ``layer_scale``, ``spatial_correction``.
        in_channels: Input bands; an int for one stem, or a dict ``{modality: bands}`` for one stem per
            modality (e.g. ``dict(opt=3, sar=1)`` for paired optical/SAR pretraining). Defaults to 3.
        img_size: Design input size; FVE/SCE are stored at ``img_size / 4 / 2**s`` per stage and
            resized to any runtime grid. Defaults to 224.
        out_indices: Stages whose outputs are returned, each through its own LayerNorm (``outnorm{i}``).
        frozen_stages: Freeze the stem and stages ``0..frozen_stages-1`` (and their embeddings); -1 off.
        drop_path_rate: Stochastic depth, linearly increasing over blocks.
        with_cp: Activation checkpointing per block.
        cache_decay: Reuse each block's decay map across inference calls until the grid or the
            parameters change. Off by default: measured on CPU it saved no time (recomputing
            ``exp(-k * Omega)`` is cheap next to the DCT GEMMs) but held one (H, W, C) map per block,
            +1.0 GB for RS-vHeat-B at 2048^2. For fixed-size deployment use :meth:`reparameterize`.
        low_memory_elems: Without autograd, stem and stages whose map has at least this many elements
            per image run in row strips, updating the map in place (:meth:`HeatBlock.forward_inplace_`):
            peak memory of about two maps instead of about five, same outputs (up to float rounding).
            The default, 2**22 (16 MB fp32), switches stage 1 of RS-vHeat-B from 1024^2 inputs on.
            None disables it; training and ``torch.enable_grad()`` always take the plain path.
        init_cfg: mmengine init config, e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
    """
    arch_zoo = {
        **dict.fromkeys(['t', 'tiny'], dict(embed_dim=96, depths=(2, 2, 6, 2), post_norm=False,
                                            layer_scale=None, spatial_correction=False)),
        **dict.fromkeys(['s', 'small'], dict(embed_dim=96, depths=(2, 2, 18, 2), post_norm=True,
                                             layer_scale=1e-5, spatial_correction=False)),
        **dict.fromkeys(['b', 'base'], dict(embed_dim=128, depths=(2, 2, 18, 2), post_norm=True,
                                            layer_scale=1e-5, spatial_correction=False)),
        # RS-vHeat: vHeat-B plus a spatial correction embedding (SCE, "heat capacity") per stage.
        **dict.fromkeys(['rs-base', 'rs_vheat_base'], dict(embed_dim=128, depths=(2, 2, 18, 2), post_norm=True,
                                                           layer_scale=1e-5, spatial_correction=True)),
    }
    essential_keys = {'embed_dim', 'depths', 'post_norm', 'layer_scale', 'spatial_correction'}

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
                 low_memory_elems: Optional[int] = 2**22,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.arch_settings = self._parse_arch(arch)
        dim, depths = self.arch_settings['embed_dim'], tuple(self.arch_settings['depths'])
        self.depths, self.num_stages = depths, len(depths)
        self.dims = [dim * 2**i for i in range(self.num_stages)]
        for i in out_indices:
            if not -self.num_stages <= i < self.num_stages:
                raise ValueError(f'out_indices {tuple(out_indices)}: {i} is not a stage of {self.num_stages}')
        self.out_indices = tuple(i % self.num_stages for i in out_indices)
        self.frozen_stages, self.with_cp = frozen_stages, with_cp

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
            [nn.Parameter(torch.zeros(gh, gw, c)) for (gh, gw), c in zip(grids, self.dims)])
        self.heat_capacity = nn.ParameterList(
            [nn.Parameter(torch.zeros(gh, gw, c)) for (gh, gw), c in zip(grids, self.dims)]
        ) if self.arch_settings['spatial_correction'] else None

        self.cache_decay, self.low_memory_elems = cache_decay, low_memory_elems
        self.bases = BasisCache()  # DCT/resampling matrices shared by every operator (non-persistent)
        n_blocks = sum(depths)  # python floats: the model may be built on the meta device
        dpr = [drop_path_rate * i / max(n_blocks - 1, 1) for i in range(n_blocks)]
        self.layers = nn.ModuleList()
        for s, (depth, c) in enumerate(zip(depths, self.dims)):
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
            self.add_module(f'outnorm{i}', LayerNorm2d(self.dims[i]))
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
        """
        if '' in self.modalities and f'{prefix}patch_embed.conv1.weight' not in state_dict:
            bands = self.modalities['']
            stems = {k[len(prefix):].split('.')[0] for k in state_dict
                     if k.startswith(f'{prefix}patch_embed_') and k.endswith('conv1.weight')}
            match = [s for s in stems if state_dict[f'{prefix}{s}.conv1.weight'].shape[1] == bands]
            if not match and stems:  # no stem with this band count: start from the one with the most bands
                match = [max(sorted(stems), key=lambda s: state_dict[f'{prefix}{s}.conv1.weight'].shape[1])]
            if len(match) == 1:
                for key in [k for k in state_dict if k[len(prefix):].split('.')[0] in stems]:
                    value = state_dict.pop(key)
                    if key[len(prefix):].startswith(match[0] + '.'):
                        state_dict[prefix + 'patch_embed' + key[len(prefix) + len(match[0]):]] = value
                print_log(f'HeatConductionNet: loaded stem {match[0]} as patch_embed ({bands} bands); '
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
            adapt_stem_bands(state_dict, key, bands, 'HeatConductionNet')

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
        arch = parse_arch(arch, self.arch_zoo, self.essential_keys)
        if len(arch['depths']) < 1 or any(int(d) < 1 for d in arch['depths']):
            raise ValueError(f"custom arch depths must be positive ints, got {arch['depths']}")
        return dict(arch)

    def init_weights(self) -> None:
        super().init_weights()
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
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
        if self.frozen_stages < 0:
            return
        frozen = [m for n, m in self.named_children() if n.startswith('patch_embed')]
        frozen += [self.layers[s] for s in range(min(self.frozen_stages, self.num_stages))]
        for m in frozen:
            m.eval()
            for p in m.parameters():
                p.requires_grad = False
        for s in range(min(self.frozen_stages, self.num_stages)):
            self.freq_embed[s].requires_grad = False
            if self.heat_capacity is not None:
                self.heat_capacity[s].requires_grad = False

    def train(self, mode: bool = True) -> 'HeatConductionNet':
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

    def forward(self, x: torch.Tensor, modality: Optional[str] = None) -> Tuple[torch.Tensor, ...]:
        """x: (B, bands, H, W), any H and W. Returns the ``out_indices`` stage maps (B, C_s, H/4/2^s, ...)."""
        if modality is None and '' not in self.modalities:
            # Infer from the band count when it identifies one stem (e.g. 3 -> opt, 1 -> sar).
            match = [m for m, c in self.modalities.items() if c == x.shape[1]]
            modality = match[0] if len(match) == 1 else None
        lean = self._lean(x.shape[-2] * x.shape[-1] // 16 * self.dims[0])  # stem output elements
        if lean:
            x = self.stem(modality).forward_lean(x)
        else:
            # A channels_last input makes every stem op (convs, LayerNorm2d) copy-free; the stem's
            # output is then already (B, H, W, C)-contiguous.
            x = self.stem(modality)(x.contiguous(memory_format=torch.channels_last)).permute(0, 2, 3, 1)
            x = x.contiguous()  # (B, H, W, C) from here on
        outs = []
        for s, stage in enumerate(self.layers):
            fve = self.freq_embed[s]
            sce = self.heat_capacity[s] if self.heat_capacity is not None else None
            lean = self._lean(x[:1].numel())
            if lean:  # strips resize the raw embeddings themselves
                for block in stage[:-1]:
                    x = block.forward_inplace_(x, fve, sce)
            else:
                # Resize the stage's embeddings once for all its blocks. With cache_decay the raw FVE
                # goes to the operators, whose decay cache is keyed on it (and skips the resize on a hit).
                grid = tuple(x.shape[1:3])
                if fve is not None and not self.cache_decay:
                    fve = resize_grid(fve, grid, self.bases)
                sce = resize_grid(sce, grid, self.bases) if sce is not None else None
                for block in stage[:-1]:
                    x = block(x, fve, sce)
            if s in self.out_indices:
                outs.append(self._output(s, x, lean))
            if s < self.num_stages - 1:
                x = self._downsample(stage[-1], x, lean)
        return tuple(outs)

    def _lean(self, elems_per_image: int) -> bool:
        """Whether a map of this size takes the low-memory inference path."""
        return (self.low_memory_elems is not None and not torch.is_grad_enabled()
                and elems_per_image >= self.low_memory_elems)

    @staticmethod
    def _downsample(layer: nn.Sequential, x: torch.Tensor, lean: bool) -> torch.Tensor:
        """Conv3x3/2 + LayerNorm2d between stages, (B, H, W, C) -> (B, H/2, W/2, 2C); in row strips on
        the low-memory path (a whole-map conv may first reorder its whole input, another full map)."""
        conv, norm = layer
        if not lean:  # conv on a channels_last-strided NCHW view, then its LayerNorm2d without permutes
            return norm.channels_last(conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)).contiguous()
        b, h, w, _ = x.shape
        h2, w2 = (h + 1) // 2, (w + 1) // 2
        out = x.new_empty(b, h2, w2, conv.out_channels)
        for i, j in row_strips(h2, b * w * conv.out_channels, x.device):
            out[:, i:j] = norm.channels_last(conv3x3_rows(x, conv, i, j))
        return out

    def _output(self, s: int, x: torch.Tensor, lean: bool) -> torch.Tensor:
        """Stage ``s`` output: its LayerNorm, as an NCHW-contiguous map for dense heads; in strips
        (no channels-last temporary) on the low-memory path."""
        norm = getattr(self, f'outnorm{s}')
        if not lean:
            return norm.channels_last(x).permute(0, 3, 1, 2).contiguous()
        b, h, w, c = x.shape
        out = x.new_empty(b, c, h, w)
        for i, j in row_strips(h, b * w * c, x.device):
            out[:, :, i:j] = norm.channels_last(x[:, i:j]).permute(0, 3, 1, 2)
        return out

    @torch.no_grad()
    def reparameterize(self, input_size: Tuple[int, int]) -> None:
        """Inference mode: precompute every block's decay for ``input_size`` and drop FVE/``to_k``.

        Outputs stay identical for inputs of that size; other sizes raise a clear error. The official
        ``infer_init`` does the same but its forward then crashes (REFERENCE §2.1).
        """
        h, w = math.ceil(input_size[0] / 4), math.ceil(input_size[1] / 4)
        for s, stage in enumerate(self.layers):
            for block in stage[:-1]:
                block.op.fixed_decay = block.op.decay(self.freq_embed[s], h, w).detach().clone()
                del block.op.to_k
            h, w = math.ceil(h / 2), math.ceil(w / 2)  # conv3x3/2 with padding 1
        # Keep the attribute (forward indexes it) but hold no parameters.
        del self.freq_embed
        self.freq_embed = [None] * self.num_stages

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
