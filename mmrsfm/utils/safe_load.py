"""Load mmengine Runner checkpoints under torch >= 2.6's ``weights_only=True`` default.

Since torch 2.6, ``torch.load`` refuses any pickled global that is not allow-listed. mmengine 0.10.7's
Runner checkpoints store its ``MessageHub`` state (``HistoryBuffer`` objects holding numpy arrays), so
``--resume`` and ``load_from`` fail with ``Unsupported global: ...HistoryBuffer``.

Trade-off chosen here: allow-list exactly the classes and reconstructors such checkpoints contain,
through torch's public :func:`torch.serialization.add_safe_globals`. Loading stays ``weights_only``
for every file, local or downloaded: a pickle that calls anything else is still refused. Nothing
sets ``weights_only=False`` or ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` on the user's behalf; for a
*trusted* checkpoint that needs more, that variable remains the user's explicit opt-in.
"""
import pickle
from typing import Any, List

import numpy as np
import torch


def runner_checkpoint_globals() -> List[object]:
    """The globals that mmengine Runner checkpoints pickle besides tensors and builtins."""
    from mmengine.logging import HistoryBuffer

    multiarray = getattr(np, '_core', None) or np.core  # numpy 2 moved numpy.core -> numpy._core
    globals_ = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        multiarray.multiarray._reconstruct,  # ndarray.__reduce__
        multiarray.multiarray.scalar,  # numpy scalars (e.g. a metric stored in runtime_info)
    ]
    # Each dtype pickles as its own class (numpy.dtypes.Float64DType, ...) and numpy scalars as
    # their type (numpy.float64, ...); allow-list the numeric/bool ones only (no object dtype).
    for name in ('bool_', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
                 'float16', 'float32', 'float64', 'complex64', 'complex128'):
        scalar_type = getattr(np, name)
        globals_ += [scalar_type, type(np.dtype(scalar_type))]
    return globals_


def history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stand-in for ``builtins.getattr`` inside ``weights_only`` unpickling.

    ``HistoryBuffer`` pickles its statistics methods as ``getattr(HistoryBuffer, 'mean')`` etc.
    Allow-listing the real ``getattr`` would let a checkpoint fetch any attribute of any object it
    can reach; this version resolves only those method lookups and refuses everything else.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and isinstance(name, str) and name in ('mean', 'min', 'max', 'current'):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'weights_only load refused getattr({obj!r}, {name!r}): mmrsfm only allows the HistoryBuffer '
        f'statistics methods that mmengine Runner checkpoints contain. If you trust this file, load it '
        f'with torch.load(..., weights_only=False) yourself.')


def allow_runner_checkpoints() -> None:
    """Allow-list :func:`runner_checkpoint_globals` for ``torch.load(weights_only=True)``."""
    if hasattr(torch.serialization, 'add_safe_globals'):  # torch >= 2.4
        torch.serialization.add_safe_globals(
            runner_checkpoint_globals() + [(history_buffer_getattr, 'builtins.getattr')])
