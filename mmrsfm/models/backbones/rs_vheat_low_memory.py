"""RS-vHeat's low-memory inference path: the whole network in row strips, updating maps in place.

Inference only (no autograd). :meth:`RSvHeat.forward <mmrsfm.models.backbones.RSvHeat.forward>` hands
an input over to :func:`low_memory_forward` when its stem output reaches ``low_memory_elems``; stages
whose maps are smaller go back to the plain path. Outputs equal the plain path up to float rounding
(tested). Why: at 2048^2 the plain path holds about five stage-1 maps (input, DWConv output, the two
halves of the input linear, the DCT result); here the peak is about two, for ~5% more FLOPs.

On CPU the strips hold about :data:`STRIP_ELEMS` elements (they stay in cache); on GPUs, where each
strip costs kernel launches rather than cache misses, a map is cut into at most :data:`GPU_MAX_STRIPS`.
"""
from typing import TYPE_CHECKING, Callable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ..layers import (BasisCache, dct_matrix, separable_2d_channels_last,
                      separable_2d_channels_last_)

if TYPE_CHECKING:  # only for annotations: rs_vheat imports this module
    from .rs_vheat import ConvStem, HeatBlock, HeatConduction2d, RSvHeat

#: Elements per strip of the low-memory inference path on CPU (8 MB of fp32: stays in cache).
STRIP_ELEMS = 2**21
#: At most this many strips per map on GPUs, where each strip costs kernel launches, not cache misses.
GPU_MAX_STRIPS = 8
#: Default ``RSvHeat(low_memory_elems=...)``: maps of at least this many elements per image take the strips.
LOW_MEMORY_ELEMS = dict(cpu=2**22, default=2**25)


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

    The result is detached: a view of a Parameter taken under ``no_grad`` still claims
    ``requires_grad`` without a grad_fn, which module hooks (e.g. torch's FlopCounterMode) reject.
    """
    embed = embed.detach()
    if tuple(embed.shape[:2]) == tuple(size):
        return embed[start:stop]
    m_h = bases.bilinear(size[0], embed.shape[0], embed.device, embed.dtype)[start:stop]
    m_w = bases.bilinear(size[1], embed.shape[1], embed.device, embed.dtype)
    return separable_2d_channels_last(embed[None], m_h, m_w)[0]


def conv3x3_rows(x: torch.Tensor, conv: nn.Conv2d, start: int, stop: int, offset: int = 0,
                 total: Optional[int] = None, pre: Optional[Callable] = None) -> torch.Tensor:
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


def stem_forward(stem: 'ConvStem', x: torch.Tensor) -> torch.Tensor:
    """``stem(x)`` in row strips: (B, bands, H, W) -> (B, H/4, W/4, C) channels-last, never holding
    the full stride-2 map (at 2048^2 it is 268 MB, the largest of the network)."""
    x = x.permute(0, 2, 3, 1)  # (B, H, W, bands) view
    h1, w1 = (x.shape[1] + 1) // 2, (x.shape[2] + 1) // 2
    h2, w2 = (h1 + 1) // 2, (w1 + 1) // 2
    out = x.new_empty(x.shape[0], h2, w2, stem.conv2.out_channels)
    for i, j in row_strips(h2, x.shape[0] * w1 * stem.conv1.out_channels * 2, x.device):
        a, b = max(2 * i - 1, 0), min(2 * (j - 1) + 2, h1)  # stride-2 rows conv2 needs
        y = stem.act(stem.norm1.channels_last(conv3x3_rows(x, stem.conv1, a, b)))
        out[:, i:j] = stem.norm2.channels_last(conv3x3_rows(y, stem.conv2, i, j, offset=a, total=h1))
    return out


def decay_rows(op: 'HeatConduction2d', fve: Optional[torch.Tensor], h: int, w: int, start: int,
               stop: int) -> torch.Tensor:
    """Rows ``[start, stop)`` of ``op.decay(fve, h, w)`` from the stage's raw FVE (no full-size
    temporaries)."""
    if op.fixed_decay is not None:
        return op.decay(fve, h, w)[start:stop]
    k = op.to_k(resize_rows(fve, (h, w), start, stop, op.bases))
    neg_omega = op.bases.neg_penalty(h, w, fve.device, torch.promote_types(k.dtype, torch.float32))
    return torch.exp(k * neg_omega[start:stop])


def hco_forward(op: 'HeatConduction2d', x: torch.Tensor, fve: Optional[torch.Tensor],
                sce: Optional[torch.Tensor], pre: Optional[Callable] = None) -> torch.Tensor:
    """``op(pre(x), fve, sce)`` whose peak memory is ``x`` plus one output map.

    x: (B, H, W, C); fve, sce: the stage's raw (unresized) embeddings; ``pre``: a per-row transform of
    ``x`` (the block's pre-norm). DWConv (with a one-row halo) and the input linear write into one
    buffer, the DCTs transform it in place, and the gate branch (DWConv and linear again, recomputed
    rather than stored) and the output linear write back into it.
    """
    b, h, w, c = x.shape
    w_in, b_in = op.linear.weight, op.linear.bias

    def prep(rows: torch.Tensor, r0: int, r1: int) -> torch.Tensor:  # x rows [r0, r1) -> op input
        rows = pre(rows) if pre is not None else rows
        if sce is None:
            return rows
        return op.norm1.channels_last(F.relu(rows + resize_rows(sce, (h, w), r0, r1, op.bases)))

    strips = row_strips(h, b * w * 4 * c, x.device)
    u = x.new_empty(b, h, w, c)
    for i, j in strips:
        u[:, i:j] = F.linear(conv3x3_rows(x, op.dwconv, i, j, pre=prep), w_in[:c], b_in[:c])
    c_h, c_w = dct_matrix(h, x.device, x.dtype, op.bases), dct_matrix(w, x.device, x.dtype, op.bases)
    separable_2d_channels_last_(u, c_h, c_w, STRIP_ELEMS)
    for i, j in strips:
        u[:, i:j] *= decay_rows(op, fve, h, w, i, j).to(u.dtype)
    separable_2d_channels_last_(u, c_h.t(), c_w.t(), STRIP_ELEMS)
    for i, j in strips:
        z = F.linear(conv3x3_rows(x, op.dwconv, i, j, pre=prep), w_in[c:], b_in[c:])
        u[:, i:j] = op.out_linear(op.out_norm(u[:, i:j]) * F.silu(z))
    return u


def block_forward_(block: 'HeatBlock', x: torch.Tensor, fve: Optional[torch.Tensor],
                   sce: Optional[torch.Tensor]) -> torch.Tensor:
    """``block(x)`` updating ``x`` (B, H, W, C) in place, strip by strip; fve, sce are the stage's raw
    embeddings. Peak: two maps."""
    b, h, w, c = x.shape
    strips = row_strips(h, b * w * 4 * c, x.device)

    def residual_(i: int, j: int, y: torch.Tensor, gamma: Optional[torch.Tensor]) -> None:
        if gamma is None:
            x[:, i:j].add_(y)
        else:
            x[:, i:j].addcmul_(gamma, y)

    # post-norm: x + g * norm(f(x)); pre-norm: x + g * f(norm(x)) (the op applies norm1 per strip)
    y = hco_forward(block.op, x, fve, sce, pre=None if block.post_norm else block.norm1.channels_last)
    for i, j in strips:
        residual_(i, j, block.norm1.channels_last(y[:, i:j]) if block.post_norm else y[:, i:j], block.gamma1)
    del y
    for i, j in strips:
        rows = x[:, i:j]
        if block.post_norm:
            residual_(i, j, block.norm2.channels_last(block.mlp(rows)), block.gamma2)
        else:
            residual_(i, j, block.mlp(block.norm2.channels_last(rows)), block.gamma2)
    return x


def downsample(layer: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """Conv3x3/2 + LayerNorm2d between stages, (B, H, W, C) -> (B, H/2, W/2, 2C), in row strips (a
    whole-map conv may first reorder its whole input, another full map)."""
    conv, norm = layer
    b, h, w, _ = x.shape
    out = x.new_empty(b, (h + 1) // 2, (w + 1) // 2, conv.out_channels)
    for i, j in row_strips(out.shape[1], b * w * conv.out_channels, x.device):
        out[:, i:j] = norm.channels_last(conv3x3_rows(x, conv, i, j))
    return out


def stage_output(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A stage's output LayerNorm as an NCHW map, in strips (no channels-last temporary)."""
    b, h, w, c = x.shape
    out = x.new_empty(b, c, h, w)
    for i, j in row_strips(h, b * w * c, x.device):
        out[:, :, i:j] = norm.channels_last(x[:, i:j]).permute(0, 3, 1, 2)
    return out


@torch.no_grad()
def low_memory_forward(net: 'RSvHeat', stem: 'ConvStem', x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """``net.forward`` in row strips for the stem and every stage whose map reaches
    ``net.low_memory_elems``; the remaining (smaller) stages take the plain path."""
    x = stem_forward(stem, x)
    outs: List[torch.Tensor] = []
    for s, stage in enumerate(net.layers):
        if not net.takes_low_memory_path(x[:1].numel(), x.device):
            return net.forward_stages(x, first=s, outs=outs)
        fve, sce = net.stage_embeddings(s)
        for block in stage[:-1]:
            x = block_forward_(block, x, fve, sce)
        if s in net.out_indices:
            outs.append(stage_output(getattr(net, f'outnorm{s}'), x))
        if s < net.num_stages - 1:
            x = downsample(stage[-1], x)
    return tuple(outs)
