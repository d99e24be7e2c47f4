"""The one-launch selective scan: the Triton kernel against the sequential reference under Triton's CPU
interpreter, the custom op ``mmrsfm::selective_scan`` (values, gradients, fake kernel, torch.compile), and on
CUDA when there is one."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mmrsfm.models import RSMamba
from mmrsfm.models.layers.selective_scan import selective_scan, selective_scan_ref
from mmrsfm.models.layers.selective_scan_triton import HAS_TRITON, selective_scan_op, selective_scan_triton

sys.path.insert(0, str(Path(__file__).parent))
from test_selective_scan import make_inputs, rel_err, value_and_grads  # noqa: E402

NAMES = 'u delta A B C D z delta_bias'.split()

# Run in a subprocess: TRITON_INTERPRET must be set before the kernel is decorated. triton 3.6's interpreter
# turns scalar kernel arguments into 1-element arrays and calls int() on them for `range(length)`, which
# numpy >= 2.4 refuses ("only 0-dimensional arrays can be converted"); the patch below reads the element
# instead. It changes the interpreter's scalar conversion only, not the kernel.
INTERPRETER_CHECK = r'''
import torch, sys
import triton.runtime.interpreter as interp
_patch = interp._patch_lang_tensor
def _patch_index(tensor, scope):
    _patch(tensor, scope)
    scope.set_attr(tensor, '__index__', lambda self: int(self.handle.data.reshape(-1)[0]))
interp._patch_lang_tensor = _patch_index
sys.path.insert(0, sys.argv[1])
from test_selective_scan import make_inputs, rel_err
from mmrsfm.models.layers.selective_scan import selective_scan_ref
from mmrsfm.models.layers.selective_scan_triton import selective_scan_triton
errs = {}
with torch.no_grad():
    for length, d, n, block in [(1, 6, 4, None), (37, 40, 5, None), (70, 64, 16, 16)]:
        a = [t.detach() for t in make_inputs(length=length, d=d, n=n)]
        errs[f'full L={length} D={d} N={n}'] = rel_err(selective_scan_triton(*a, delta_softplus=True, block_d=block),
                                                      selective_scan_ref(*a, delta_softplus=True))
    a = [t.detach() for t in make_inputs(length=29, d=8, n=4)]
    errs['no D/z/bias/softplus'] = rel_err(selective_scan_triton(*a[:5]), selective_scan_ref(*a[:5]))
    # B and C as the strided halves of one projection (x_proj's split), u as a transposed view
    u, delta, A, _, _, D, z, bias = a
    bc = torch.randn(2, 29, 9)
    B, C = bc[..., 1:5], bc[..., 5:]
    u = u.transpose(0, 1).contiguous().transpose(0, 1)
    errs['strided views'] = rel_err(selective_scan_triton(u, delta, A, B, C, D, z, bias, True),
                                    selective_scan_ref(u, delta, A, B, C, D, z, bias, True))
    # extreme decays: delta * A down to -1e4, and steps with no decay
    u, delta, A, B, C, D, z, bias = [t.detach() for t in make_inputs(length=60, a_scale=100.0)]
    delta = torch.where(torch.rand(2, 60, 6, generator=torch.Generator().manual_seed(3)) < 0.5, 100.0, 1e-6)
    y = selective_scan_triton(u, delta, A, B, C, D, z)
    assert torch.isfinite(y).all()
    errs['extreme decays'] = rel_err(y, selective_scan_ref(u, delta, A, B, C, D, z))
    low = [t.detach().bfloat16() if t.dim() == 3 else t.detach() for t in make_inputs(length=40, d=16, n=16)]
    y = selective_scan_triton(*low, delta_softplus=True)
    assert y.dtype == torch.bfloat16
    bf16 = rel_err(y, selective_scan_ref(*[t.float() for t in low], delta_softplus=True))
for k, v in errs.items():
    print(f'{k}: {v:.2e}')
print(f'bf16: {bf16:.2e}')
assert max(errs.values()) <= 1e-5, errs
assert bf16 <= 2**-7, bf16  # the output's own rounding; the state is fp32
print('INTERPRETER OK')
'''


@pytest.mark.skipif(not HAS_TRITON, reason='triton is not installed with this torch')
def test_triton_kernel_equals_reference_under_interpreter():
    """The CUDA kernel's code, run on CPU by Triton's interpreter: fp32 within 1e-5 of the sequential
    reference for one step, non-power-of-two N, channel counts that are not a multiple of the block,
    no optional terms, strided views, extreme decays; bf16 within its own output rounding (2^-7)."""
    env = dict(os.environ, TRITON_INTERPRET='1')
    proc = subprocess.run([sys.executable, '-c', INTERPRETER_CHECK, str(Path(__file__).parent)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and 'INTERPRETER OK' in proc.stdout, proc.stdout + proc.stderr[-3000:]


def test_custom_op_equals_reference_with_gradients():
    """On CPU the op runs the chunked scan; its backward (recompute + autograd) gives all eight gradients."""
    args = make_inputs(length=45, d=10, n=5)
    y_ref, g_ref = value_and_grads(selective_scan_ref, args)
    y, g = value_and_grads(selective_scan, args, impl='triton')
    assert rel_err(y, y_ref) <= 1e-5
    for name, a, b in zip(NAMES, g, g_ref):
        assert rel_err(a, b) <= 1e-5, name
    u, delta, A, B, C = make_inputs(length=12)[:5]  # absent optional inputs get no gradient slot
    gu, = torch.autograd.grad(selective_scan(u, delta, A, B, C, impl='triton').sum(), [u])
    assert torch.isfinite(gu).all()


def test_custom_op_registration_is_consistent():
    """torch.library.opcheck: the fake kernel's shape/strides, the schema and the autograd registration
    agree with the real kernel."""
    torch.library.opcheck(selective_scan_op, [t.detach().requires_grad_() for t in make_inputs(length=9)] + [True])


def test_auto_picks_the_op_on_non_cpu_devices():
    """'auto' on the meta device (a stand-in for a GPU without mamba_ssm) dispatches the one op."""
    args = [t.detach().to('meta') for t in make_inputs(length=20)]
    from mmrsfm.utils.op_count import count_ops
    ops = count_ops(selective_scan, *args, delta_softplus=True)
    assert ops['per_op'] == {'selective_scan': 1}


def test_rsmamba_with_the_op_compiles_without_breaks_and_matches_eager():
    """The op is one opaque node for torch.compile: fullgraph, equal outputs and gradients in training."""
    torch.manual_seed(0)
    model = RSMamba(dict(embed_dims=32, num_layers=1, feedforward_channels=64), img_size=32, scan_impl='triton')
    x = torch.randn(2, 3, 32, 32)
    explain = torch._dynamo.explain(model)(x)
    assert explain.graph_break_count == 0, explain.break_reasons
    eager = model(x)
    g_eager = torch.autograd.grad(sum(o.square().sum() for o in eager), [model.layers[0].A_log])[0]
    # inductor: under aot_eager the backward of RSMamba's dt_proj (chunked or op path alike) views a
    # softplus gradient whose runtime strides differ from the traced ones (torch 2.10)
    compiled = torch.compile(model, fullgraph=True)
    out = compiled(x)
    g = torch.autograd.grad(sum(o.square().sum() for o in out), [model.layers[0].A_log])[0]
    for a, b in zip(out, eager):
        assert rel_err(a, b) <= 1e-5
    assert rel_err(g, g_eager) <= 1e-4


@pytest.mark.skipif(not (torch.cuda.is_available() and HAS_TRITON), reason='needs CUDA and triton')
@pytest.mark.parametrize('length', [1, 100, 1031])
def test_triton_on_cuda_equals_reference(length):
    args = make_inputs(length=length, d=48, n=16, device='cuda')
    y, g = value_and_grads(selective_scan, args, impl='triton')
    y_ref, g_ref = value_and_grads(selective_scan_ref, [a.detach().cpu().requires_grad_() for a in args])
    assert rel_err(y.cpu(), y_ref) <= 1e-5
    for name, a, b in zip(NAMES, g, g_ref):
        assert rel_err(a.cpu(), b) <= 1e-4, name
    with torch.no_grad():
        direct = selective_scan_triton(*[a.detach() for a in args], delta_softplus=True)
    assert rel_err(direct.cpu(), y_ref) <= 1e-5
