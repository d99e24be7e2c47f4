"""Selective scan: the chunked PyTorch scan and the CUDA dispatch against the sequential reference (outputs and
gradients, any length and chunk size, extreme decays, bf16), and the causal depthwise conv."""
from importlib import import_module

import pytest
import torch
from torch import nn

from mmrsfm.models.layers.selective_scan import (causal_conv1d, default_chunk_size, selective_scan,
                                                 selective_scan_chunked, selective_scan_ref)


def make_inputs(b=2, length=33, d=6, n=4, dtype=torch.float32, device='cpu', a_scale=1.0, seed=0):
    """(u, delta, A, B, C, D, z, delta_bias), all leaves with requires_grad."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    tensors = [r(b, length, d), r(b, length, d), -(torch.rand(d, n, generator=g) * a_scale + 0.1),
               r(b, length, n), r(b, length, n), r(d), r(b, length, d), r(d)]
    return [t.to(device=device, dtype=dtype if i not in (2, 5, 7) else torch.float32).requires_grad_()
            for i, t in enumerate(tensors)]


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| relative to max(1, max |b|)."""
    return ((a.float() - b.float()).abs().max() / b.float().abs().max().clamp(min=1)).item()


def value_and_grads(fn, args, **kwargs):
    y = fn(*args, delta_softplus=True, **kwargs)
    w = torch.randn(y.shape, generator=torch.Generator().manual_seed(1)).to(y)
    return y, torch.autograd.grad((y * w).sum(), args)


@pytest.mark.parametrize('length, chunk', [(1, None), (2, 1), (7, 4), (16, 16), (33, 16), (100, 7), (257, 64),
                                           (1000, None)])
def test_chunked_equals_reference_fp32(length, chunk):
    """Outputs and all eight gradients within 1e-5 (relative to the largest value) for lengths 1,
    non-powers of two, chunk sizes that do not divide the length, and one chunk."""
    args = make_inputs(length=length)
    y_ref, g_ref = value_and_grads(selective_scan_ref, args)
    y, g = value_and_grads(selective_scan_chunked, args, chunk_size=chunk)
    assert y.shape == y_ref.shape == (2, length, 6)
    assert rel_err(y, y_ref) <= 1e-5
    for name, a, b in zip('u delta A B C D z delta_bias'.split(), g, g_ref):
        assert rel_err(a, b) <= 1e-5, name


def test_chunked_without_optional_terms_and_no_grad_path():
    """No D / z / bias / softplus; the in-place path (no grad) gives the autograd path's values."""
    u, delta, A, B, C = make_inputs(length=50)[:5]
    delta = delta.detach().abs()
    y_ref = selective_scan_ref(u, delta, A, B, C)
    y = selective_scan_chunked(u, delta, A, B, C, chunk_size=8)
    with torch.no_grad():
        y_inplace = selective_scan_chunked(u, delta, A, B, C, chunk_size=8)
    assert rel_err(y, y_ref) <= 1e-5
    torch.testing.assert_close(y_inplace, y, rtol=0, atol=0)


def test_extreme_decays_stay_finite_and_exact():
    """Steps with delta * A down to -1e4 (total log-decay -1e6 over the sequence) and steps with no decay:
    nothing overflows (no exp(-cumsum) rescaling), results equal the reference."""
    u, delta, A, B, C, D, z, bias = make_inputs(length=200, a_scale=100.0)
    delta = torch.where(torch.rand(2, 200, 6) < 0.5, 100.0, 1e-6).requires_grad_()
    y_ref = selective_scan_ref(u, delta, A, B, C, D, z)
    y = selective_scan_chunked(u, delta, A, B, C, D, z, chunk_size=32)
    assert torch.isfinite(y).all()
    assert rel_err(y, y_ref) <= 1e-5
    grads = torch.autograd.grad(y.sum(), [u, delta, A, B, C])
    assert all(torch.isfinite(g).all() for g in grads)


def test_bf16_inputs_accumulate_in_fp32():
    """bf16 inputs give a bf16 output as close to the fp32 reference as bf16 rounding of the output allows."""
    args = make_inputs(length=300, d=16, n=16)
    low = [a.detach().bfloat16() if a.dtype == torch.float32 and a.dim() == 3 else a.detach() for a in args]
    y32 = selective_scan_ref(*[a.float() for a in low], delta_softplus=True)  # same (rounded) inputs, fp32
    y = selective_scan_chunked(*low, delta_softplus=True, chunk_size=32)
    assert y.dtype == torch.bfloat16 and torch.isfinite(y).all()
    assert rel_err(y, y32) <= 2**-7  # the output's own rounding; the state is fp32


@pytest.mark.parametrize('length, chunk', [(1, None), (33, 16), (100, 7)])
def test_loop_op_scan_equals_chunked_and_exports_as_three_loops(length, chunk):
    """The exporters' form (the chunked scan's loops as torch's scan op) gives the chunked scan's values
    bit for bit (same ops in the same order), padding included; torch.export records three loop nodes and
    no unrolled steps, and the program gives the same values."""
    args = [a.detach() for a in make_inputs(length=length)]

    class Scan(nn.Module):
        def forward(self, *xs):
            return selective_scan_chunked(*xs, delta_softplus=True, chunk_size=chunk, graph_loops=True)

    with torch.no_grad():
        y = selective_scan_chunked(*args, delta_softplus=True, chunk_size=chunk)
        y_loop = selective_scan(*args, delta_softplus=True, impl='export', chunk_size=chunk)
        torch.testing.assert_close(y_loop, y, rtol=0, atol=0)
        program = torch.export.export(Scan(), tuple(args))
    # When gradients are needed (torch's scan op has no autograd), impl='export' runs the chunked scan.
    y_grad = selective_scan(*[a.clone().requires_grad_() for a in args], delta_softplus=True, impl='export',
                            chunk_size=chunk)
    assert y_grad.requires_grad
    torch.testing.assert_close(y_grad, y, rtol=0, atol=1e-6)
    targets = [str(node.target) for node in program.graph.nodes if node.op == 'call_function']
    assert targets.count('scan') == 3, targets
    assert len(targets) < 80, len(targets)  # ~60 at any length; unrolled, 3+ nodes per step (2 T + L / T steps)
    torch.testing.assert_close(program.module()(*args), y, rtol=0, atol=1e-6)


@pytest.mark.parametrize('length', [1, 5, 64, 100])
def test_default_chunk_size(length):
    t = default_chunk_size(length)
    assert 1 <= t <= max(length, 1) and (t == length or 16 <= t <= 256)
    assert default_chunk_size(4096) == 256 and default_chunk_size(1024) == 128


def test_dispatch():
    args = make_inputs(length=20)
    torch.testing.assert_close(selective_scan(*args, impl='ref'), selective_scan_ref(*args))
    torch.testing.assert_close(selective_scan(*args), selective_scan_chunked(*args))  # CPU 'auto'
    with pytest.raises(ValueError, match='impl'):
        selective_scan(*args, impl='pallas')
    with pytest.raises(RuntimeError, match='mamba_ssm'):
        selective_scan(*args, impl='cuda')  # CPU inputs (and maybe no mamba_ssm)


@pytest.mark.parametrize('impl', ['auto', 'conv1d'])
@pytest.mark.parametrize('k, length', [(1, 9), (2, 9), (4, 9), (4, 2), (4, 1)])
def test_causal_conv1d_equals_conv1d_with_padding(impl, k, length):
    """HF MambaMixer's conv: Conv1d(padding=K-1, groups=D) keeping the first L outputs; also for L < K."""
    conv = nn.Conv1d(6, 6, k, groups=6, padding=k - 1)
    x = torch.randn(2, length, 6, requires_grad=True)
    expected = conv(x.transpose(1, 2))[..., :length].transpose(1, 2)
    y = causal_conv1d(x, conv.weight, conv.bias, impl=impl)
    torch.testing.assert_close(y, expected)
    torch.testing.assert_close(causal_conv1d(x, conv.weight.squeeze(1), None, impl=impl), expected - conv.bias)
    g = torch.randn_like(y)
    torch.testing.assert_close(torch.autograd.grad(y, x, g)[0], torch.autograd.grad(expected, x, g)[0])
    # Causal: the first output depends on the first input only.
    x2 = x.detach().clone()
    x2[:, 1:] += 1
    torch.testing.assert_close(causal_conv1d(x2, conv.weight, conv.bias, impl=impl)[:, 0], expected[:, 0])


ss = import_module('mmrsfm.models.layers.selective_scan')  # the module (the package exports the function)
cuda_kernels = pytest.mark.skipif(
    not torch.cuda.is_available() or ss.selective_scan_cuda_fn is None or ss.causal_conv1d_cuda_fn is None,
    reason='needs CUDA with mamba_ssm and causal_conv1d installed')


@cuda_kernels
@pytest.mark.parametrize('length', [1, 100, 1031])
def test_cuda_kernels_equal_chunked_scan(length):
    args = make_inputs(length=length, d=32, n=16, device='cuda')
    y_cuda, g_cuda = value_and_grads(selective_scan, args, impl='cuda')
    y, g = value_and_grads(selective_scan_chunked, args)
    assert rel_err(y_cuda, y) <= 1e-4
    for a, b in zip(g_cuda, g):
        assert rel_err(a, b) <= 1e-3
    conv = nn.Conv1d(32, 32, 4, groups=32, padding=3).cuda()
    x = torch.randn(2, length, 32, device='cuda')
    torch.testing.assert_close(causal_conv1d(x, conv.weight, conv.bias),
                               causal_conv1d(x, conv.weight, conv.bias, impl='conv1d'), rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_chunked_scan_on_cuda_equals_cpu():
    args = make_inputs(length=77)
    y = selective_scan_chunked(*[a.detach().cuda() for a in args], delta_softplus=True, chunk_size=16)
    assert y.is_cuda
    assert rel_err(y.cpu(), selective_scan_ref(*args, delta_softplus=True)) <= 1e-5
