"""ATen operator counts of a forward pass: the CPU-measurable proxy for GPU kernel launches.

Every ATen op that does work is at least one kernel launch on a GPU (~5 µs each), so a model
whose forward dispatches tens of thousands of small ops is launch-bound there however few FLOPs it
has. Views and other metadata-only ops (``view``, ``permute``, ``slice``, ...) launch nothing; they
are counted separately.
"""
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
def count_forward_ops(model: torch.nn.Module, x: torch.Tensor) -> Dict[str, Any]:
    """:func:`count_ops` of ``model.eval()(x)`` without autograd (an inference forward)."""
    return count_ops(model.eval(), x)
