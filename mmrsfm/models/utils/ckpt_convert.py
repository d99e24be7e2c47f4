"""Pure ``convert_<source>(state_dict) -> state_dict`` functions for official checkpoints.

CLI wrappers live in ``tools/model_converters/``. Each function returns keys of the mmrsfm module
(no ``backbone.`` prefix); load with ``init_cfg=dict(type='Pretrained', checkpoint=...)`` or
``model.load_state_dict(..., strict=False)`` and compare the missing keys with the documented set.
"""
import os
import pickle
import re
from typing import Dict, Optional, Sequence

import torch

StateDict = Dict[str, torch.Tensor]

#: Keys a converted vHeat *classification* checkpoint lacks: the per-output LayerNorms of dense
#: tasks (official detection/segmentation checkpoints have them and load strictly).
VHEAT_CLS_MISSING = re.compile(r'^outnorm\d+\.(weight|bias)$')


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
    try:
        from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint
    except ImportError as e:
        raise SystemExit(f'{path} is a directory (a DeepSpeed checkpoint?); reading it needs '
                         f'`pip install deepspeed`') from e
    path = path.rstrip('/')
    if not any(f.endswith('model_states.pt') for f in os.listdir(path)):
        raise SystemExit(f'{path}: a directory without *_model_states.pt files, so not a DeepSpeed checkpoint')
    state_dict = get_fp32_state_dict_from_zero_checkpoint(os.path.dirname(path), tag=os.path.basename(path))
    return {'state_dict': {k: v.float() if v.is_floating_point() else v for k, v in state_dict.items()}}


def load_checkpoint_file(path: str, trust: bool = False) -> dict:
    """``torch.load`` a checkpoint to the CPU for conversion. Official releases are plain tensors in a
    dict, so ``weights_only`` loading is the default; files that also pickle other objects (training
    args, optimiser classes) need ``trust=True`` and the error says so, naming the file. A directory
    is read as a DeepSpeed checkpoint (:func:`load_deepspeed_checkpoint`)."""
    if os.path.isdir(path):
        return load_deepspeed_checkpoint(path)
    try:
        return torch.load(path, map_location='cpu', weights_only=not trust)
    except pickle.UnpicklingError as e:
        raise SystemExit(f'{path}: holds more than tensors ({e.__class__.__name__}); if it comes from a source '
                         f'you trust, re-run with --trust-checkpoint') from e


def save_converted(state_dict: StateDict, src: str, dst: str, **meta) -> None:
    """Write ``{'state_dict', 'meta'}`` (the layout ``init_cfg=dict(type='Pretrained')`` and
    ``load_from`` read) and report how many tensors went to ``dst``."""
    torch.save({'state_dict': state_dict, 'meta': dict(converted_from=src, **meta)}, dst)
    print(f'{len(state_dict)} tensors written to {dst}')


def _rename_stem(key: str) -> str:
    # Official stems wrap their LayerNorms as Sequential(permute, LN, permute): norm1.1.* -> norm1.*
    return re.sub(r'^(patch_embed\w*)\.(norm[12])\.1\.', r'\1.\2.', key)


def convert_vheat(ckpt: dict) -> StateDict:
    """Official vHeat releases (``vHeat_{tiny,small,base}.pth``, ``ckpt['model']``) and official
    vHeat detection/segmentation checkpoints (``backbone.`` prefix, ``outnorm{i}``) ->
    :class:`~mmrsfm.models.HeatConductionNet`.

    The classifier is dropped. Inference-mode checkpoints (``op.k_exp``, no ``to_k``/``freq_embed``)
    are rejected: they only work at one input size; convert the training-mode release.
    """
    out = {}
    for key, value in unwrap_state_dict(ckpt).items():
        key = strip_prefixes(key)
        if key.startswith(('classifier.', 'head.', 'neck.', 'decode_head.', 'auxiliary_head.',
                           'rpn_head.', 'roi_head.')):
            continue
        if key.endswith('op.k_exp'):
            raise ValueError(f"'{key}': this is an inference-mode (infer_init) checkpoint with the decay "
                             f'precomputed for one size; convert the training-mode release instead')
        out[_rename_stem(key)] = value
    return out


def convert_rs_vheat(ckpt: dict, modality: Optional[str] = 'opt') -> StateDict:
    """Official RS-vHeat pretraining checkpoints -> :class:`~mmrsfm.models.HeatConductionNet`.

    Keeps the ``encoder.`` keys (stems ``patch_embed_opt/_sar``, ``freq_embed.{s}``,
    ``heat_capacity.{s}``, blocks); drops ``fuse_frequency`` (a pretraining-only fusion module) and
    everything outside the encoder (decoders). With ``modality`` ('opt' or 'sar') the matching stem
    becomes ``patch_embed`` and the other is dropped, for a single-modality downstream model
    (``in_channels=3`` or ``1``); with ``modality=None`` both stems stay, for
    ``in_channels=dict(opt=3, sar=1)``. FVE/SCE of another resolution are resized when loaded (see
    ``HeatConductionNet._resize_embeddings``).
    """
    sd = unwrap_state_dict(ckpt)
    if not any(k.startswith('encoder.') for k in sd):
        raise KeyError("no 'encoder.' keys: not an RS-vHeat pretraining checkpoint "
                       '(for vHeat classification releases use convert_vheat)')
    stems = {m.group(1) for k in sd for m in [re.match(r'encoder\.patch_embed_(\w+?)\.', k)] if m}
    if modality is not None and modality not in stems:
        raise KeyError(f"modality '{modality}' has no stem in this checkpoint (stems: {sorted(stems)})")
    out = {}
    for key, value in sd.items():
        if not key.startswith('encoder.') or 'fuse_frequency' in key:
            continue
        key = key[len('encoder.'):]
        if key.startswith('classifier.'):
            continue
        if modality is not None and key.startswith('patch_embed_'):
            if not key.startswith(f'patch_embed_{modality}.'):
                continue
            key = 'patch_embed' + key[len(f'patch_embed_{modality}'):]
        out[_rename_stem(key)] = value
    return out
