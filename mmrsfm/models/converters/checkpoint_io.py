"""Checkpoint I/O shared by every converter: reading a release (``.pth``, DeepSpeed directory),
unwrapping its state dict, stripping wrapper prefixes, writing the converted file and summarising the
keys a conversion dropped.

Errors are raised (``FileNotFoundError``, ``ValueError``, ``ImportError``) with the fix in the message;
deciding the exit status is the CLI's job (:mod:`mmrsfm.models.converters.cli`).
"""
import os
import pickle
from typing import Dict, List, Sequence, Tuple

import torch

StateDict = Dict[str, torch.Tensor]
#: The end of every converter's "not this layout" error: where the right converter is.
ANOTHER_FAMILY = ('a checkpoint of another family needs its own converter: mmrsfm.models.converters.convert_<family> '
                  '(CLI: tools/model_converters/<family>2mmrsfm.py)')
#: What every ``convert_<family>`` returns: the converted state dict, and the sorted source keys that
#: were left out on purpose (classifier heads, decoders, pretraining-only modules, ...).
ConversionResult = Tuple[StateDict, List[str]]


def unwrap_state_dict(ckpt: dict, keys: Sequence[str] = ('model', 'state_dict')) -> StateDict:
    """The state dict inside a loaded checkpoint: the first of ``keys`` holding a dict, else ``ckpt``
    itself (a bare state dict)."""
    for key in keys:
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            return ckpt[key]
    return ckpt


def strip_prefixes(key: str, prefixes: Sequence[str] = ('module.', 'backbone.'), repeat: bool = False) -> str:
    """``key`` without the leading ``prefixes`` (DDP ``module.``, detector ``backbone.``, ...), each
    tried once in order, or, with ``repeat``, until none is left."""
    stripped = True
    while stripped:
        stripped = False
        for p in prefixes:
            if key.startswith(p):
                key, stripped = key[len(p):], True
        stripped = stripped and repeat
    return key


def load_deepspeed_checkpoint(path: str) -> dict:
    """``{'state_dict': fp32 weights}`` of a DeepSpeed ZeRO-2/3 checkpoint directory, as mmengine's
    ``DeepSpeedStrategy`` writes it (``work_dir/iter_N.pth/`` holding ``*_model_states.pt`` and the
    ``*_optim_states.pt`` shards). The fp32 master weights are gathered from the optimizer shards with
    DeepSpeed's own ``zero_to_fp32``; frozen parameters (kept only in the engine's bf16/fp16 copy) are
    cast to fp32 too."""
    path = path.rstrip('/')
    if not any(f.endswith('model_states.pt') for f in os.listdir(path)):
        raise ValueError(f'{path}: a directory without *_model_states.pt files, so not a DeepSpeed checkpoint; '
                         f'give a checkpoint file, or the iter_N.pth/ directory DeepSpeedStrategy wrote')
    try:
        from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint
    except ImportError as e:
        raise ImportError(f'{path} is a DeepSpeed checkpoint directory; reading it needs '
                          f'`pip install deepspeed`') from e
    state_dict = get_fp32_state_dict_from_zero_checkpoint(os.path.dirname(path), tag=os.path.basename(path))
    return {'state_dict': {k: v.float() if v.is_floating_point() else v for k, v in state_dict.items()}}


def load_checkpoint_file(path: str, trust: bool = False) -> dict:
    """``torch.load`` a checkpoint to the CPU for conversion. Official releases are plain tensors in a
    dict, so ``weights_only`` loading is the default; files that also pickle other objects (training
    args, optimiser classes) need ``trust=True`` and the error says so, naming the file. A directory
    is read as a DeepSpeed checkpoint (:func:`load_deepspeed_checkpoint`).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file pickles more than tensors (and ``trust`` is False), or a directory is not
            a DeepSpeed checkpoint.
        ImportError: a DeepSpeed directory without deepspeed installed.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f'{path}: no such file or directory')
    if os.path.isdir(path):
        return load_deepspeed_checkpoint(path)
    try:
        return torch.load(path, map_location='cpu', weights_only=not trust)
    except pickle.UnpicklingError as e:
        raise ValueError(f'{path}: holds more than tensors ({e.__class__.__name__}); if it comes from a source '
                         f'you trust, load it with trust=True (CLI: re-run with --trust-checkpoint)') from e


def save_converted(state_dict: StateDict, src: str, dst: str, **meta) -> None:
    """Write ``{'state_dict', 'meta'}`` (the layout ``init_cfg=dict(type='Pretrained')`` and
    ``load_from`` read) and report how many tensors went to ``dst``."""
    torch.save({'state_dict': state_dict, 'meta': dict(converted_from=src, **meta)}, dst)
    print(f'{len(state_dict)} tensors written to {dst}')


def summarize_keys(keys: Sequence[str], limit: int = 24) -> List[str]:
    """``keys`` as at most about ``limit`` lines: all of them when few, else grouped by dotted prefix
    (``decoder_blocks.* (64 keys)``) at the deepest level that still fits, never split by a list index
    (``blocks.0``, ``blocks.1``, ...), so a dropped module reads as one line instead of hiding the rest."""
    keys = sorted(keys)
    if len(keys) <= limit:
        return keys

    def group(depth: int) -> Dict[str, List[str]]:
        groups: Dict[str, List[str]] = {}
        for key in keys:
            parts = key.split('.')
            head = next((i for i, p in enumerate(parts[:depth]) if p.isdigit()), min(depth, len(parts) - 1))
            groups.setdefault('.'.join(parts[:head]) if head else key, []).append(key)
        return groups

    best = group(1)
    for depth in range(2, max(k.count('.') for k in keys) + 1):
        finer = group(depth)  # refines the previous grouping, so its size only grows with depth
        if len(finer) > limit:
            break
        best = finer
    lines = []
    for prefix, members in best.items():
        # A lone key, or the direct leaves of a module whose submodules have lines of their own (so
        # 'encoder.*' would wrongly cover them): named one by one.
        if len(members) == 1 or prefix in keys or any(p.startswith(prefix + '.') for p in best):
            lines += members
        else:
            lines.append(f'{prefix}.* ({len(members)} keys)')
    return sorted(lines)
