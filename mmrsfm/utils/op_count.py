"""ATen operator counts of a forward pass: the CPU-measurable proxy for GPU kernel launches.

Every ATen op that does work is at least one kernel launch on a GPU (~5 µs each), so a model
whose forward dispatches tens of thousands of small ops is launch-bound there however few FLOPs it
has. Views and other metadata-only ops (``view``, ``permute``, ``slice``, ...) launch nothing; they
are counted separately.
"""
import copy
import re
from collections import Counter
from typing import Any, Callable, Dict

import torch
from torch.utils._python_dispatch import TorchDispatchMode

#: Ops that only change tensor metadata (no kernel on any device).
METADATA_OPS = frozenset({
    'view', '_unsafe_view', 'reshape', 'alias', 'as_strided', 'detach', 't', 'transpose', 'permute',
    'expand', 'slice', 'select', 'unsqueeze', 'squeeze', 'split', 'split_with_sizes', 'unbind', 'chunk',
    'narrow', 'view_as', 'unflatten', 'flatten', 'lift_fresh', '_reshape_alias', 'empty', 'empty_like',
    'new_empty', 'empty_strided', 'new_empty_strided', 'sym_size', 'sym_stride', 'sym_numel', 'dim', 'size',
    'stride', 'is_contiguous', '_has_compatible_shallow_copy_type', 'movedim', 'diagonal', 'unfold',
})


class _OpCounter(TorchDispatchMode):

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.counts[func.overloadpacket.__name__] += 1
        return func(*args, **(kwargs or {}))


def count_ops(fn: Callable[..., Any], *args, **kwargs) -> Dict[str, Any]:
    """Run ``fn(*args, **kwargs)`` once and count the ATen ops it dispatches.

    Returns:
        ``dict(total=..., kernels=..., per_op=Counter)``: ``kernels`` excludes :data:`METADATA_OPS`.
    """
    with _OpCounter() as counter:
        fn(*args, **kwargs)
    kernels = sum(n for op, n in counter.counts.items() if op.rstrip('_') not in METADATA_OPS)
    return dict(total=sum(counter.counts.values()), kernels=kernels, per_op=counter.counts)


@torch.no_grad()
def count_forward_ops(model: torch.nn.Module, x: torch.Tensor, warmup: int = 1) -> Dict[str, Any]:
    """:func:`count_ops` of ``model.eval()(x)`` without autograd (an inference forward), after ``warmup``
    uncounted forwards (the steady state: one-time work such as building cached DCT bases is left out)."""
    model.eval()
    for _ in range(warmup):
        model(x)
    return count_ops(model, x)


@torch.no_grad()
def count_gpu_path_ops(model: torch.nn.Module, x: torch.Tensor, warmup: int = 1) -> Dict[str, Any]:
    """:func:`count_forward_ops` of the path a GPU forward takes, measured without a GPU: a copy of the
    model and the input on the ``meta`` device, where nothing is computed and every device test of the
    mmrsfm layers takes its non-CPU branch (RS-vHeat's GPU strip threshold, RSMamba's one-launch scan
    op ``mmrsfm::selective_scan``, which counts as the one Triton launch it is on CUDA)."""
    meta = copy.deepcopy(model).to('meta')
    return count_forward_ops(meta, x.to('meta'), warmup)


#: A call in inductor's generated ``call()`` that launches work: a fused kernel (C++ on CPU, Triton on
#: GPUs), an extern kernel (GEMM, conv), or an op inductor falls back to (ATen or a custom op).
_LAUNCH = re.compile(r'^\s*(?:\w+(?:, \w+)* = )?(?:(\w*(?:cpp|triton)_\w+)(?:\.run)?\(|extern_kernels\.(\w+)\(|'
                     r'(?:torch\.ops\.)?(aten|mmrsfm|\w+)\.(\w+)(?:\.\w+)?\()')
_NOT_LAUNCH = frozenset({'reinterpret_tensor', 'empty_strided_cpu', 'empty_strided_cuda', 'assert_size_stride',
                         'assert_alignment', 'clear'})


def count_compiled_launches(model: torch.nn.Module, x: torch.Tensor, backend: str = 'inductor') -> Dict[str, Any]:
    """Kernel launches of one compiled inference forward: the calls in the ``call()`` function(s) of
    inductor's generated code (fused kernels, extern GEMM/conv kernels and fallback ops; allocations,
    views and asserts excluded).

    One eager forward runs first, so cached constants (RS-vHeat's DCT bases) exist as buffers and the
    compiled graph is the steady-state one. On CPU inductor emits C++ kernels; on a GPU it fuses the same
    graph into Triton kernels with similar boundaries, so this is the compiled counterpart of
    :func:`count_forward_ops` as a launch proxy.

    Returns:
        ``dict(kernels=..., graphs=..., per_kind=Counter)``.
    """
    from torch._inductor.utils import run_and_get_code
    model.eval()
    with torch.no_grad():
        model(x)
        compiled = torch.compile(model, backend=backend, fullgraph=True)
        _, codes = run_and_get_code(compiled, x)
    kinds: Counter = Counter()
    for code in codes:
        body = code[code.index('def call('):].split('\n')[1:]
        for line in body:
            if line and not line.startswith((' ', '\t')):  # end of call()
                break
            m = _LAUNCH.match(line)
            if m is None:
                continue
            kind = ('fused' if m.group(1) else f'extern.{m.group(2)}' if m.group(2) else f'{m.group(3)}.{m.group(4)}')
            if kind.rsplit('.', 1)[-1] not in _NOT_LAUNCH:
                kinds[kind] += 1
    return dict(kernels=sum(kinds.values()), graphs=len(codes), per_kind=kinds)
