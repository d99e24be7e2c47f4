"""Mamba-1 selective scan and causal depthwise conv: a sequential reference, an exact chunked pure-PyTorch
scan, and mamba_ssm / causal_conv1d CUDA kernels when they are installed.

Semantics (Gu & Dao, "Mamba", 2023; HuggingFace ``MambaMixer`` slow path), per batch b, channel d and
state n, over time t (written here for the channels-last layout every function of this module takes)::

    delta = softplus(delta + delta_bias)              (if delta_softplus)
    h[t] = exp(delta[t] * A) * h[t - 1] + delta[t] * B[t] * u[t]       h[-1] = 0
    y[t] = sum_n C[t, n] * h[t, :, n] + D * u[t]
    y    = y * silu(z)                                  (if z is given)

The state ``h`` is kept in float32 whatever the input dtype (bf16/fp16 inputs are upcast), and the
output has ``u``'s dtype.

The chunked scan (:func:`selective_scan_chunked`) splits the sequence into ``L / T`` chunks of ``T`` steps
and runs two passes, each a Python loop over the ``T`` positions of a chunk, vectorised over *all* chunks
at once (per step: one (B, L / T, N, D) tensor op of each kind), with a loop over the ``L / T`` chunks on
small (B, N, D) states in between:

1. every chunk's final state from a zero start, and the chunk's total decay ``exp(A * sum(delta))``;
   a loop over chunks then carries the true state into each chunk's start;
2. from those starts, the same recurrence again, now reading out ``y[t] = C[t] . h[t]`` at each step.

So ``2 T + L / T`` steps run in Python instead of L (576 instead of 4096 at L = 4096, T = 256); no
(B, L, D, N) tensor is materialised (the per-step tensors are cache-sized); nothing can overflow, since
every factor is a decay ``exp(delta * A) <= 1`` (A < 0, delta >= 0) multiplied step by step as the
reference does (no ``exp(-cumsum)`` rescaling). The quadratic within-chunk form of Mamba-2 (segment sums
of the log-decay, one (T, T) matrix per head) does not pay off here: Mamba-1's decay differs per channel
*and* state, so that form costs T / 2 times the work of the recurrence.

Gradients come from autograd through the same ops (out of place when grad is needed, in place otherwise);
autograd then keeps a few per-step states, about 4 x (B, L, D, N) floats per call, so train long sequences
without the CUDA kernels under activation checkpointing (``RSMamba(with_cp=True)``).
"""
import math
from importlib import import_module
from typing import Optional

import torch
import torch.nn.functional as F


def _optional(module: str, name: str):
    """``module.name`` when the (compiled, optional) package imports, else None."""
    try:
        return getattr(import_module(module), name)
    except Exception:  # ImportError, or a CUDA extension built for another torch (undefined symbol)
        return None


#: mamba_ssm's fused CUDA selective scan (layout (B, D, L)), or None when not installed.
selective_scan_cuda_fn = _optional('mamba_ssm.ops.selective_scan_interface', 'selective_scan_fn')
#: causal_conv1d's fused CUDA depthwise causal conv (layout (B, D, L)), or None when not installed.
causal_conv1d_cuda_fn = _optional('causal_conv1d', 'causal_conv1d_fn')

IMPLS = ('auto', 'chunked', 'ref', 'cuda', 'triton', 'export')
#: Chunk length for a symbolic sequence length (a dynamic-H/W export): small enough that short sequences
#: pad little, large enough that long ones loop little (2 x 64 + L / 64 iterations).
SYMBOLIC_CHUNK = 64


def _prepare(u: torch.Tensor, delta: torch.Tensor, delta_bias: Optional[torch.Tensor], delta_softplus: bool):
    """float32 u and the final step size (bias added, softplus applied)."""
    delta = delta.float()
    if delta_bias is not None:
        delta = delta + delta_bias.float()
    if delta_softplus:
        delta = F.softplus(delta)
    return u.float(), delta


def _finish(y: torch.Tensor, u: torch.Tensor, D: Optional[torch.Tensor], z: Optional[torch.Tensor],
            dtype: torch.dtype) -> torch.Tensor:
    """y + D * u, gated by silu(z), in ``dtype``."""
    if D is not None:
        y = torch.addcmul(y, u, D.float())
    if z is not None:
        y = y * F.silu(z.float())
    return y.to(dtype)


def selective_scan_ref(u: torch.Tensor,
                       delta: torch.Tensor,
                       A: torch.Tensor,
                       B: torch.Tensor,
                       C: torch.Tensor,
                       D: Optional[torch.Tensor] = None,
                       z: Optional[torch.Tensor] = None,
                       delta_bias: Optional[torch.Tensor] = None,
                       delta_softplus: bool = False) -> torch.Tensor:
    """Sequential reference (one Python step per token, as HF ``MambaMixer``'s slow path); for tests.

    Args:
        u: (B, L, D) inputs.
        delta: (B, L, D) step sizes (before ``delta_bias`` and softplus).
        A: (D, N) state matrix (diagonal per channel; negative).
        B: (B, L, N) input projections.
        C: (B, L, N) output projections.
        D: (D,) skip weights. Defaults to None.
        z: (B, L, D) gate (``y * silu(z)``). Defaults to None.
        delta_bias: (D,) added to delta. Defaults to None.
        delta_softplus: Apply softplus to delta. Defaults to False.

    Returns:
        (B, L, D) in ``u``'s dtype.
    """
    dtype = u.dtype
    u, delta = _prepare(u, delta, delta_bias, delta_softplus)
    A, B, C = A.float(), B.float(), C.float()
    d_a = torch.exp(delta[..., None] * A)  # (B, L, D, N)
    d_bu = (delta * u)[..., None] * B[:, :, None, :]  # (B, L, D, N)
    h = u.new_zeros(u.shape[0], u.shape[2], A.shape[1])  # (B, D, N)
    ys = []
    for t in range(u.shape[1]):
        h = d_a[:, t] * h + d_bu[:, t]
        ys.append(torch.matmul(h, C[:, t, :, None])[..., 0])  # (B, D)
    return _finish(torch.stack(ys, dim=1), u, D, z, dtype)


def default_chunk_size(length: int) -> int:
    """Chunk length for :func:`selective_scan_chunked`: the power of two nearest ``4 sqrt(length)``, within
    [16, 256], and never more than the sequence (256 at L = 4096, 128 at L = 1024).

    Measured on CPU (Xeon, AVX-512; B = 2, D = 512, N = 16, no grad), seconds per call with 1 thread,
    L = 4096: T = 64 0.149, 128 0.143, 256 0.110, 512 0.094; L = 1024: T = 64 0.028, 128 0.022,
    256 0.024. With 2 threads longer chunks mean more, smaller tensor ops (each pays the thread-pool
    overhead), so L = 4096 stops at 256 (0.064 s, vs 0.065 for 512 and 0.067 for 128).
    """
    if isinstance(length, torch.SymInt):  # a dynamic-H/W export: one chunk length for every size
        return SYMBOLIC_CHUNK
    t = 2**round(math.log2(max(length, 1)**0.5 * 4))
    return max(1, min(length, max(16, min(256, t))))


def selective_scan_chunked(u: torch.Tensor,
                           delta: torch.Tensor,
                           A: torch.Tensor,
                           B: torch.Tensor,
                           C: torch.Tensor,
                           D: Optional[torch.Tensor] = None,
                           z: Optional[torch.Tensor] = None,
                           delta_bias: Optional[torch.Tensor] = None,
                           delta_softplus: bool = False,
                           chunk_size: Optional[int] = None,
                           graph_loops: bool = False) -> torch.Tensor:
    """Exact chunked selective scan in pure PyTorch (see the module docstring); arguments as
    :func:`selective_scan_ref`, plus ``chunk_size`` (T; default :func:`default_chunk_size`) and
    ``graph_loops``: write the three loops as ``torch.ops.higher_order.scan`` (loops *in the graph*) instead
    of Python loops, for exporters: ``torch.export`` then records three loop nodes per call instead of
    ``2 T + L / T`` unrolled steps (~2,000 nodes per call at L = 4096), and the ONNX exporter turns each into
    one ONNX ``Scan``. Same ops in the same order, so the same values bit for bit; inference only (torch's
    scan op has no autograd: with gradients needed the Python loops run), and slower in eager mode (torch
    runs each loop through ``torch.compile(backend='eager')``)."""
    dtype = u.dtype
    u, delta = _prepare(u, delta, delta_bias, delta_softplus)
    b, length, d = u.shape
    t_len = chunk_size or default_chunk_size(length)
    chunks = (length + t_len - 1) // t_len  # not -(-L // T): ONNX divides symbolic ints truncating
    symbolic = isinstance(length, torch.SymInt)
    if symbolic:  # a dynamic-H/W export: one more (all-padding) chunk, so the count is never 1, which
        chunks = chunks + 1  # torch.export would specialise inside the loop bodies (its 0/1 rule)
    pad = chunks * t_len - length
    du, B, C = delta * u, B.float(), C.float()
    if symbolic or pad:  # delta = 0 on padding: decay 1 and no input, so the state passes through unchanged
        delta, du, B, C = [F.pad(v, (0, 0, 0, pad)) for v in (delta, du, B, C)]

    def steps(v: torch.Tensor) -> torch.Tensor:  # (b, L, k) -> (T, b, chunks, k): one block per step
        return v.reshape(b, chunks, t_len, -1).permute(2, 0, 1, 3).contiguous()  # reshape: B, C may be strided

    # The state is (b, chunks, N, D): D innermost, so the elementwise ops and the C readout vectorise
    # over the 512+ channels rather than the 16 states.
    delta, du = steps(delta)[:, :, :, None, :], steps(du)[:, :, :, None, :]  # (T, b, chunks, 1, D)
    B, C = steps(B)[..., None], steps(C)[:, :, :, None, :]  # (T, b, chunks, N, 1), (T, b, chunks, 1, N)
    a_t = A.float().t().contiguous()  # (N, D)
    grad = torch.is_grad_enabled() and any(v.requires_grad for v in (u, delta, a_t, B, C))
    if graph_loops and not grad:
        y = _graph_loop_passes(delta, du, B, C, a_t)
    else:
        y = _python_loop_passes(delta, du, B, C, a_t, grad)
    y = y.view(t_len, b, chunks, d).permute(1, 2, 0, 3).reshape(b, chunks * t_len, d)[:, :length]
    return _finish(y, u, D, z, dtype)


def _python_loop_passes(delta: torch.Tensor, du: torch.Tensor, B: torch.Tensor, C: torch.Tensor,
                        a_t: torch.Tensor, grad: bool) -> torch.Tensor:
    """The chunked scan's passes on its per-step blocks (delta, du (T, b, chunks, 1, D), B (T, b, chunks,
    N, 1), C (T, b, chunks, 1, N), A^T (N, D)) -> y (T, b, chunks, 1, D); in place unless ``grad``."""
    t_len, b, chunks, _, d = du.shape

    def step(h: torch.Tensor, t: int) -> torch.Tensor:
        """h[t] = exp(delta[t] * A) * h[t - 1] + delta[t] * u[t] * B[t]; in place without autograd."""
        if grad:
            return torch.addcmul(h * torch.exp(delta[t] * a_t), du[t], B[t])
        return h.mul_(torch.mul(delta[t], a_t).exp_()).addcmul_(du[t], B[t])

    # Pass 1: each chunk's final state from a zero start.
    h = du[0] * B[0]  # (b, chunks, N, D)
    for t in range(1, t_len):
        h = step(h, t)
    # Carry the true state across chunks: start[c] = total_decay[c - 1] * start[c - 1] + local_end[c - 1].
    total_decay = torch.exp(delta.sum(0) * a_t)  # (b, chunks, N, D)
    starts = [h.new_zeros(b, a_t.shape[0], d)]
    for c in range(chunks - 1):
        starts.append(torch.addcmul(h[:, c], total_decay[:, c], starts[-1]))
    h = torch.stack(starts, dim=1)
    # Pass 2: the recurrence from the true starts, reading y[t] = C[t] . h[t] out at every step.
    if grad:
        ys = []
        for t in range(t_len):
            h = step(h, t)
            ys.append(torch.matmul(C[t], h))  # (b, chunks, 1, D)
        return torch.stack(ys)
    y = du.new_empty(t_len, b, chunks, 1, d)
    for t in range(t_len):
        torch.matmul(C[t], step(h, t), out=y[t])
    return y


def _graph_loop_passes(delta: torch.Tensor, du: torch.Tensor, B: torch.Tensor, C: torch.Tensor,
                       a_t: torch.Tensor) -> torch.Tensor:
    """:func:`_python_loop_passes` (no grad) with each loop as one ``torch.ops.higher_order.scan``."""
    from torch._higher_order_ops.scan import scan

    def step(h, xs):  # the same step; pass 1's per-step output is an unused scalar
        h = torch.addcmul(h * torch.exp(xs[0] * a_t), xs[1], xs[2])
        return h, (torch.matmul(xs[3], h) if len(xs) > 3 else h.new_zeros(()))

    def carry(start, xs):  # start[c + 1] = total_decay[c] * start[c] + local_end[c]; outputs start[c]
        return torch.addcmul(xs[0], xs[1], start), start.clone()

    _, b, chunks, _, d = du.shape
    zero = du.new_zeros(b, 1, a_t.shape[0], d)  # a zero state (init carries must be contiguous)
    local_end, _ = scan(step, zero.expand(-1, chunks, -1, -1).contiguous(), (delta, du, B))  # pass 1
    total_decay = torch.exp(delta.sum(0) * a_t)
    _, starts = scan(carry, zero[:, 0], (local_end.transpose(0, 1), total_decay.transpose(0, 1)))
    # (b, chunks, N, D), with the strides of a new tensor (init carries must match their outputs' metadata)
    starts = starts.transpose(0, 1).clone(memory_format=torch.contiguous_format)
    return scan(step, starts, (delta, du, B, C))[1]  # pass 2: from the true starts, y[t] = C[t] . h[t]


def _selective_scan_cuda(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False) -> torch.Tensor:
    """mamba_ssm's kernel on the channels-last tensors (it takes (B, D, L))."""
    t = lambda v: None if v is None else v.transpose(1, 2)  # noqa: E731
    y = selective_scan_cuda_fn(t(u), t(delta), A.float(), t(B), t(C), None if D is None else D.float(), t(z),
                               None if delta_bias is None else delta_bias.float(), delta_softplus)
    return y.transpose(1, 2)


def selective_scan(u: torch.Tensor,
                   delta: torch.Tensor,
                   A: torch.Tensor,
                   B: torch.Tensor,
                   C: torch.Tensor,
                   D: Optional[torch.Tensor] = None,
                   z: Optional[torch.Tensor] = None,
                   delta_bias: Optional[torch.Tensor] = None,
                   delta_softplus: bool = False,
                   impl: str = 'auto',
                   chunk_size: Optional[int] = None) -> torch.Tensor:
    """Selective scan, dispatched: arguments and layout as :func:`selective_scan_ref`.

    Args:
        impl: 'auto' picks by device: on CUDA mamba_ssm's kernel when importable, else 'triton'; on CPU
            :func:`selective_scan_chunked`; on other devices (e.g. ``meta``, where op counts are taken as on a
            GPU) 'triton'. 'cuda' (mamba_ssm's kernel; an error when unavailable), 'triton' (the custom op
            ``torch.ops.mmrsfm.selective_scan``: one Triton kernel launch on CUDA, the chunked scan
            elsewhere, see :mod:`~mmrsfm.models.layers.selective_scan_triton`), 'chunked', 'ref' or
            'export' (the chunked scan with ``graph_loops=True``: in-graph loops, for exporters).
            Defaults to 'auto'.
        chunk_size: Chunk length of the chunked scan. Defaults to None (:func:`default_chunk_size`).
    """
    if impl not in IMPLS:
        raise ValueError(f"impl '{impl}' is not one of {IMPLS}")
    args = (u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    if impl == 'auto':
        if u.is_cuda and selective_scan_cuda_fn is not None:
            impl = 'cuda'
        elif u.device.type != 'cpu':
            impl = 'triton'
    if impl == 'cuda':
        if selective_scan_cuda_fn is None or not u.is_cuda:
            raise RuntimeError("impl='cuda' needs mamba_ssm installed and CUDA inputs")
        return _selective_scan_cuda(*args)
    if impl == 'triton':
        return selective_scan_op(*args)
    if impl == 'ref':
        return selective_scan_ref(*args)
    return selective_scan_chunked(*args, chunk_size=chunk_size, graph_loops=impl == 'export')


def causal_conv1d(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
                  impl: str = 'auto') -> torch.Tensor:
    """Depthwise causal 1-D convolution along L: ``y[t] = bias + sum_k weight[:, k] * x[t - K + 1 + k]``
    (zeros before the start), as ``nn.Conv1d(D, D, K, groups=D, padding=K - 1)`` followed by keeping the
    first L outputs (HF ``MambaMixer``).

    On CPU the kernel is applied as K shifted multiply-adds on the channels-last tensor: ``F.conv1d`` needs
    (B, D, L), and the two transposes around it cost more than the convolution (measured: about 5x the
    shifted form at L = 4096, D = 512).

    Args:
        x: (B, L, D).
        weight: (D, 1, K) (an ``nn.Conv1d`` weight) or (D, K).
        bias: (D,). Defaults to None.
        impl: 'auto' (causal_conv1d's CUDA kernel when importable and ``x`` is on CUDA, else the shifted
            multiply-adds), 'shift' or 'conv1d' (``F.conv1d(groups=D)`` on the left-padded, transposed
            input; also taken for a symbolic length, as in a dynamic-H/W export). Defaults to 'auto'.

    Returns:
        (B, L, D).
    """
    d, k = weight.shape[0], weight.shape[-1]
    w = weight.reshape(d, k)
    if impl == 'auto' and x.is_cuda and causal_conv1d_cuda_fn is not None:
        return causal_conv1d_cuda_fn(x.transpose(1, 2), w, bias).transpose(1, 2)
    if impl == 'conv1d' or isinstance(x.shape[1], torch.SymInt):  # no Python loop bound on a symbolic L
        y = F.conv1d(F.pad(x.transpose(1, 2), (k - 1, 0)), w[:, None], bias, groups=d)  # (B, D, L)
        return y.transpose(1, 2)
    y = x * w[:, k - 1] if bias is None else torch.addcmul(bias.to(x.dtype), x, w[:, k - 1])
    for j in range(1, min(k, x.shape[1])):  # tap k - 1 - j sees the input j steps back
        y[:, j:].addcmul_(x[:, :-j], w[:, k - 1 - j])
    return y


# Last: the custom op's module imports selective_scan_chunked from this one.
from .selective_scan_triton import selective_scan_op  # noqa: E402
