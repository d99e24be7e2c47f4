"""The selective scan as one kernel launch: a Triton kernel for CUDA, wrapped in the custom op
``torch.ops.mmrsfm.selective_scan``.

Why: the exact chunked PyTorch scan (:func:`~mmrsfm.models.layers.selective_scan.selective_scan_chunked`)
dispatches about ``2 T + L / T`` small steps of several ops each, ~3,000 ops per call at L = 4096. On a GPU
each op is a kernel launch (~5 us), which made RSMamba-base launch-bound (~138,000 ops per 1024^2 image).
Here one launch runs the whole recurrence: every program owns one sequence and ``BLOCK_D`` channels, keeps
their (BLOCK_D, N) float32 state in registers and walks the sequence, step by step exactly as
:func:`~mmrsfm.models.layers.selective_scan.selective_scan_ref` (same order of operations, so equal up to
float rounding; tested under Triton's interpreter on CPU, ``TRITON_INTERPRET=1``).

The custom op runs anywhere: the Triton kernel on CUDA, the chunked scan on every other device (so a CPU
forward has the same op boundaries as a GPU one and :mod:`mmrsfm.utils.op_count` sees one op per scan),
a fake kernel for meta tensors and ``torch.compile`` (which keeps the op as one opaque call, no graph
break). Gradients: the backward recomputes the forward with the chunked scan under autograd (exact,
no extra memory kept by the forward; training launch counts are therefore not reduced, only inference's).
"""
from typing import List, Optional, Sequence

import torch

from .selective_scan import selective_scan_chunked

try:  # ships with CUDA builds of torch; absent from some CPU-only builds
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - depends on the torch build
    triton = tl = None

#: Whether the Triton kernel can be launched (on CUDA, or on CPU tensors under ``TRITON_INTERPRET=1``).
HAS_TRITON = triton is not None

if HAS_TRITON:

    @triton.jit
    def _scan_fwd_kernel(u_ptr, delta_ptr, a_ptr, b_ptr, c_ptr, d_ptr, z_ptr, bias_ptr, out_ptr, length, dim,
                         s_u_b, s_u_l, s_dt_b, s_dt_l, s_b_b, s_b_l, s_c_b, s_c_l, s_z_b, s_z_l, s_o_b, s_o_l,
                         N: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_N: tl.constexpr, HAS_D: tl.constexpr,
                         HAS_Z: tl.constexpr, HAS_BIAS: tl.constexpr, SOFTPLUS: tl.constexpr):
        """One program: sequence ``program_id(0)``, channels ``[program_id(1) * BLOCK_D, ... + BLOCK_D)``.

        Channels-last tensors with unit stride along D (u, delta, z, out) and along N (B, C); A is a
        contiguous float32 (D, N) matrix, D and delta_bias contiguous float32 (D,) vectors.
        """
        seq = tl.program_id(0)
        offs_d = tl.program_id(1) * BLOCK_D + tl.arange(0, BLOCK_D)
        offs_n = tl.arange(0, BLOCK_N)
        mask_d, mask_n = offs_d < dim, offs_n < N
        # Padded states (n >= N) get A = 0 and B = C = 0: decay 1, no input, no read-out.
        a = tl.load(a_ptr + offs_d[:, None] * N + offs_n[None, :], mask=mask_d[:, None] & mask_n[None, :], other=0.)
        if HAS_BIAS:
            bias = tl.load(bias_ptr + offs_d, mask=mask_d, other=0.)
        if HAS_D:
            skip = tl.load(d_ptr + offs_d, mask=mask_d, other=0.)
        h = tl.zeros((BLOCK_D, BLOCK_N), dtype=tl.float32)
        for t in range(length):
            dt = tl.load(delta_ptr + seq * s_dt_b + t * s_dt_l + offs_d, mask=mask_d, other=0.).to(tl.float32)
            if HAS_BIAS:
                dt = dt + bias
            if SOFTPLUS:  # torch's softplus (threshold 20); log1p by its series where exp(dt) is tiny
                e = tl.exp(tl.minimum(dt, 20.))
                dt = tl.where(dt > 20., dt, tl.where(e < 1e-4, e * (1. - 0.5 * e), tl.log(1. + e)))
            u = tl.load(u_ptr + seq * s_u_b + t * s_u_l + offs_d, mask=mask_d, other=0.).to(tl.float32)
            bt = tl.load(b_ptr + seq * s_b_b + t * s_b_l + offs_n, mask=mask_n, other=0.).to(tl.float32)
            ct = tl.load(c_ptr + seq * s_c_b + t * s_c_l + offs_n, mask=mask_n, other=0.).to(tl.float32)
            h = tl.exp(dt[:, None] * a) * h + (dt * u)[:, None] * bt[None, :]
            y = tl.sum(h * ct[None, :], axis=1)
            if HAS_D:
                y = y + skip * u
            if HAS_Z:
                z = tl.load(z_ptr + seq * s_z_b + t * s_z_l + offs_d, mask=mask_d, other=0.).to(tl.float32)
                y = y * (z * tl.sigmoid(z))
            tl.store(out_ptr + seq * s_o_b + t * s_o_l + offs_d, y.to(out_ptr.dtype.element_ty), mask=mask_d)


def _unit_last(v: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """``v`` with stride 1 along its last axis (a copy only when it has another)."""
    return v if v is None or v.stride(-1) == 1 else v.contiguous()


def selective_scan_triton(u: torch.Tensor,
                          delta: torch.Tensor,
                          A: torch.Tensor,
                          B: torch.Tensor,
                          C: torch.Tensor,
                          D: Optional[torch.Tensor] = None,
                          z: Optional[torch.Tensor] = None,
                          delta_bias: Optional[torch.Tensor] = None,
                          delta_softplus: bool = False,
                          block_d: Optional[int] = None) -> torch.Tensor:
    """Launch the Triton kernel (forward only): arguments and layout as
    :func:`~mmrsfm.models.layers.selective_scan.selective_scan_ref`; B and C may be strided views (e.g. the
    split of ``x_proj``'s output) as long as their last axis has unit stride.

    Args:
        block_d: Channels per program. Defaults to None: 32 (with N = 16, a 512-float state per program).

    Returns:
        (B, L, D) in ``u``'s dtype.
    """
    if not HAS_TRITON:
        raise RuntimeError('the Triton selective scan needs triton (it ships with CUDA builds of torch)')
    batch, length, dim = u.shape
    n = A.shape[1]
    u, delta, B, C, z = (_unit_last(v) for v in (u, delta, B, C, z))
    a = A.float().contiguous()
    out = u.new_empty(u.shape)  # contiguous whatever u's strides (the fake kernel promises this layout)
    block_d = block_d or 32
    dummy = a  # any pointer for the absent optional inputs (never read: their flags are off)
    zs = z.stride() if z is not None else (0, 0, 0)
    grid = (batch, triton.cdiv(dim, block_d))
    _scan_fwd_kernel[grid](
        u, delta, a, B, C, D.float().contiguous() if D is not None else dummy, z if z is not None else dummy,
        delta_bias.float().contiguous() if delta_bias is not None else dummy, out, length, dim,
        u.stride(0), u.stride(1), delta.stride(0), delta.stride(1), B.stride(0), B.stride(1), C.stride(0),
        C.stride(1), zs[0], zs[1], out.stride(0), out.stride(1),
        N=n, BLOCK_D=block_d, BLOCK_N=triton.next_power_of_2(n), HAS_D=D is not None, HAS_Z=z is not None,
        HAS_BIAS=delta_bias is not None, SOFTPLUS=bool(delta_softplus))
    return out


# -- the custom op --------------------------------------------------------------------------------------


@torch.library.custom_op('mmrsfm::selective_scan', mutates_args=())
def selective_scan_op(u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor,
                      D: Optional[torch.Tensor], z: Optional[torch.Tensor], delta_bias: Optional[torch.Tensor],
                      delta_softplus: bool) -> torch.Tensor:
    """``torch.ops.mmrsfm.selective_scan``: the chunked scan on CPU and other devices (this default kernel),
    the Triton kernel on CUDA (registered below). The output is contiguous."""
    return selective_scan_chunked(u, delta, A, B, C, D, z, delta_bias, delta_softplus).contiguous()


@selective_scan_op.register_kernel('cuda')
def _selective_scan_cuda(u, delta, A, B, C, D, z, delta_bias, delta_softplus):
    if not HAS_TRITON:
        return selective_scan_chunked(u, delta, A, B, C, D, z, delta_bias, delta_softplus).contiguous()
    return selective_scan_triton(u, delta, A, B, C, D, z, delta_bias, delta_softplus)


@selective_scan_op.register_fake
def _selective_scan_fake(u, delta, A, B, C, D, z, delta_bias, delta_softplus):
    return u.new_empty(u.shape)


_INPUTS = ('u', 'delta', 'A', 'B', 'C', 'D', 'z', 'delta_bias')


def _setup_context(ctx, inputs: Sequence, output: torch.Tensor) -> None:
    ctx.save_for_backward(*inputs[:8])
    ctx.delta_softplus = inputs[8]


def _backward(ctx, grad: torch.Tensor) -> tuple:
    """Recompute the forward with the chunked scan under autograd and differentiate it (exact)."""
    saved = ctx.saved_tensors
    with torch.enable_grad():
        leaves = [None if v is None else v.detach().requires_grad_(need)
                  for v, need in zip(saved, ctx.needs_input_grad[:8])]
        y = selective_scan_chunked(*leaves, delta_softplus=ctx.delta_softplus)
        wanted = [v for v in leaves if v is not None and v.requires_grad]
        grads: List[torch.Tensor] = list(torch.autograd.grad(y, wanted, grad, allow_unused=True)) if wanted else []
    out = []
    for v in leaves:
        out.append(grads.pop(0) if v is not None and v.requires_grad else None)
    return tuple(out) + (None, )


selective_scan_op.register_autograd(_backward, setup_context=_setup_context)
