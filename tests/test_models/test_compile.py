"""torch.compile contract for every backbone family: zero graph breaks, compiled == eager, and no
recompilation across batch sizes.

- Graph breaks are counted with ``torch._dynamo.explain`` (one case per backbone and path: inference
  under ``no_grad`` in eval mode, a training forward with grad, and the special paths: RS-vHeat's
  decay cache, re-parameterised and low-memory (row-strip) inference, activation checkpointing).
  A new break fails the test with dynamo's reason.
- Compiled outputs are compared with eager ones under the ``aot_eager`` backend: it runs dynamo and
  AOTAutograd (the graph capture and functionalisation that inductor also sees) without inductor's slow
  C++/Triton code generation, so the test stays fast on CPU. ``fullgraph=True`` makes a break an error
  there too. The batch dimension is marked dynamic; a second batch size must not recompile.

Input *sizes* (H, W) are not covered: a new spatial size currently specialises (recompiles), since the
backbones pick per-size constants (DCT/resampling bases, window partitions) in Python.
"""
import sys
from pathlib import Path

import pytest
import torch
from torch._dynamo.testing import CompileCounterWithBackend

sys.path.insert(0, str(Path(__file__).parent))
from test_backbone_contract import NAMES, TINY, build  # noqa: E402

#: (backbone, extra build kwargs, mode, case id); mode 'eval' runs under no_grad, 'train' with grad.
CASES = [(name, {}, mode, f'{name}-{mode}') for name in NAMES for mode in ('eval', 'train')] + [
    ('RSvHeat', dict(cache_decay=True), 'eval', 'RSvHeat-cache_decay-eval'),
    ('RSvHeat', dict(low_memory_elems=1), 'eval', 'RSvHeat-low_memory-eval'),
    ('RSvHeat', dict(reparameterize=True), 'eval', 'RSvHeat-reparameterized-eval'),
    ('RSvHeat', dict(with_cp=True), 'train', 'RSvHeat-with_cp-train'),
    ('RSvHeat', dict(with_cp=True, cache_decay=True), 'train', 'RSvHeat-with_cp-cache_decay-train'),
    ('ScalableViT', dict(with_cp=True), 'train', 'ScalableViT-with_cp-train'),
    ('SpectralGPT', dict(with_cp=True), 'train', 'SpectralGPT-with_cp-train'),
    ('RSMamba', dict(with_cp=True), 'train', 'RSMamba-with_cp-train'),
]


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _model_and_input(name: str, kw: dict, mode: str, batch: int = 2):
    kw = dict(kw)
    reparam = kw.pop('reparameterize', False)
    _, (bands, h, w), _ = TINY[name]
    model = build(name, **kw).train(mode == 'train')
    if reparam:
        model.reparameterize((h, w))
    torch.manual_seed(1)
    return model, torch.randn(batch, bands, h, w, requires_grad=mode == 'train')


@pytest.mark.parametrize('name,kw,mode', [c[:3] for c in CASES], ids=[c[3] for c in CASES])
def test_zero_graph_breaks(name, kw, mode):
    model, x = _model_and_input(name, kw, mode)
    with torch.set_grad_enabled(mode == 'train'):
        explained = torch._dynamo.explain(model)(x)
    reasons = [f'{r.reason.splitlines()[0]} at {r.user_stack[-1] if r.user_stack else "?"}'
               for r in explained.break_reasons]
    assert explained.graph_break_count == 0, reasons
    assert explained.graph_count == 1


@pytest.mark.parametrize('name', NAMES)
def test_compiled_equals_eager_without_recompiling_per_batch(name):
    model, x = _model_and_input(name, {}, 'eval')
    counter = CompileCounterWithBackend('aot_eager')
    compiled = torch.compile(model, backend=counter, fullgraph=True)
    with torch.no_grad():
        for batch in (2, 3):
            x = torch.randn(batch, *x.shape[1:])
            torch._dynamo.mark_dynamic(x, 0)
            ref, out = model(x), compiled(x)
            assert len(ref) == len(out)
            for r, o in zip(ref, out):
                assert o.shape == r.shape
                rel = ((o - r).abs().max() / r.abs().max().clamp_min(1e-12)).item()
                assert rel <= 1e-4, (batch, rel)
    assert counter.frame_count == 1, f'recompiled for a new batch size ({counter.frame_count} graphs)'
