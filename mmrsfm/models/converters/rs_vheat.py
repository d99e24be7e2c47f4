"""vHeat / RS-vHeat official checkpoints -> :class:`~mmrsfm.models.backbones.RSvHeat`.

:func:`convert_rs_vheat` tells the two official layouts apart by their keys:

* vHeat (``MzeroMiko/vHeat``, ``classification/models/vHeat.py``): the classification releases
  ``vHeat_{tiny,small,base}.pth`` (``ckpt['model']``, classifier ``classifier.*``) and the
  detection / segmentation checkpoints (backbone under ``backbone.`` with per-output ``outnorm{i}``,
  beside the task's neck and heads);
* RS-vHeat pretraining checkpoints (``iecashhy/RS-vHeat``, ``models/vHeat/RS_vHeat.py``): the backbone
  under ``encoder.`` with one stem per modality (``patch_embed_opt`` / ``patch_embed_sar``), the spatial
  correction ``heat_capacity.{s}`` and the pretraining-only ``fuse_frequency``, decoders outside it.

Both keep the official block names (``layers.{s}.{b}.op.*``, ``freq_embed.{s}``); only the stems'
``Sequential(permute, LayerNorm, permute)`` wrappers are renamed.

Fine-tuned classifiers (``classifier=True``): vHeat classification releases and RS-vHeat classifiers
(``KingBob-2000/RS-vHeat``: the ``RS_vHeat`` model itself, bare keys with stems ``patch_embed_opt``/``_sar``,
or ``Vheat_Classification``, the backbone under ``encoder.`` and the head as top-level ``classifier.*``)
end in ``Sequential(LayerNorm2d(C), AdaptiveAvgPool2d(1), Flatten, Linear(C, N))``. That is an mmpretrain
``ImageClassifier`` with ``RSvHeat(out_indices=(last,))`` (whose ``outnorm{last}`` is the same LayerNorm2d,
eps 1e-5), ``GlobalAveragePooling`` and ``LinearClsHead``: ``classifier.0.*`` -> ``backbone.outnorm{last}.*``
and ``classifier.3.*`` -> ``head.fc.*``.
"""
import re
from typing import List, Optional, Tuple

from .checkpoint_io import ANOTHER_FAMILY, ConversionResult, StateDict, strip_prefixes, unwrap_state_dict

#: Keys a converted vHeat *classification* checkpoint lacks: the per-output LayerNorms of dense
#: tasks (official detection/segmentation checkpoints have them and load strictly).
VHEAT_CLS_MISSING = re.compile(r'^outnorm\d+\.(weight|bias)$')
#: Task heads of vHeat releases (classifier; the necks and heads of a detector / segmentor).
VHEAT_HEADS = ('classifier.', 'head.', 'neck.', 'decode_head.', 'auxiliary_head.', 'rpn_head.', 'roi_head.')
#: The heat conduction operator, in every vHeat and RS-vHeat block: what makes a checkpoint one of them.
HCO_KEY = re.compile(r'^layers\.\d+\.\d+\.op\.')
EXPECTED = ("expected an official vHeat checkpoint (classification release with keys like "
            "'layers.0.0.op.to_k.0.weight', or a detection/segmentation one with them under 'backbone.') "
            "or an RS-vHeat pretraining checkpoint (the same under 'encoder.', stems 'encoder.patch_embed_opt/_sar')")


#: The official classifier ``Sequential(LayerNorm2d, AdaptiveAvgPool2d, Flatten, Linear)``: its parameters.
CLASSIFIER_KEY = re.compile(r'^classifier\.(0|3)\.(weight|bias)$')
NO_CLASSIFIER = ("classifier=True but the checkpoint has no trained classifier head (top-level 'classifier.0.*' "
                 "and 'classifier.3.*'); {what}: convert without classifier (CLI: without --classifier) for a "
                 'backbone and train a head on it')


def _rename_stem(key: str) -> str:
    # Official stems wrap their LayerNorms as Sequential(permute, LN, permute): norm1.1.* -> norm1.*
    return re.sub(r'^(patch_embed\w*)\.(norm[12])\.1\.', r'\1.\2.', key)


def _check_blocks(out: StateDict) -> None:
    if not any(HCO_KEY.match(k) for k in out):
        raise KeyError(f'no heat conduction blocks (layers.<stage>.<block>.op.*) found: {EXPECTED}; {ANOTHER_FAMILY}')


def _select_stem(key: str, modality: Optional[str]) -> Optional[str]:
    """``patch_embed_<modality>.*`` -> ``patch_embed.*``; None for another modality's stem (dropped)."""
    if modality is None or not key.startswith('patch_embed_'):
        return key
    if not key.startswith(f'patch_embed_{modality}.'):
        return None
    return 'patch_embed' + key[len(f'patch_embed_{modality}'):]


def _check_modality(sd: StateDict, modality: Optional[str], prefix: str) -> None:
    stems = {m.group(1) for k in sd for m in [re.match(rf'(?:module\.)?{prefix}patch_embed_(\w+?)\.', k)] if m}
    if modality is not None and modality not in stems:
        raise KeyError(f"modality '{modality}' has no stem in this RS-vHeat checkpoint (stems: {sorted(stems)}); "
                       f"pick one of them, or None (CLI: both) to keep all")


def _convert_vheat(sd: StateDict, modality: Optional[str]) -> ConversionResult:
    # A detector / segmentor checkpoint holds the backbone under 'backbone.': everything else is its task.
    detector = any(strip_prefixes(k, ('module.', )).startswith('backbone.') for k in sd)
    # Bare RS-vHeat models (fine-tuned RS_vHeat classifiers) name their stems patch_embed_opt / _sar.
    multi_stem = any(strip_prefixes(k, ('module.', )).startswith('patch_embed_') for k in sd)
    out, dropped = {}, []
    for raw, value in sd.items():
        key = strip_prefixes(raw, ('module.', ))
        if detector and not key.startswith('backbone.'):
            dropped.append(raw)
            continue
        key = strip_prefixes(key, ('backbone.', ))
        if key.startswith(VHEAT_HEADS):
            dropped.append(raw)
            continue
        if key.endswith('op.k_exp'):
            raise ValueError(f"'{raw}': this is an inference-mode (infer_init) vHeat checkpoint with the decay "
                             f'precomputed for one input size; convert the training-mode release instead')
        if multi_stem:
            key = _select_stem(key, modality)
            if key is None:
                dropped.append(raw)
                continue
        out[_rename_stem(key)] = value
    _check_blocks(out)
    if multi_stem:
        _check_modality(sd, modality, '')
    elif modality not in (None, 'opt'):
        raise KeyError(f"modality '{modality}': a vHeat checkpoint has one optical stem ('patch_embed'); "
                       f"use modality='opt' (CLI: --modality opt)")
    return out, dropped


def _convert_pretraining(sd: StateDict, modality: Optional[str]) -> ConversionResult:
    out, dropped = {}, []
    for raw, value in sd.items():
        key = strip_prefixes(raw, ('module.', ))
        # fuse_frequency only fuses the two modalities' spectra for the pretraining loss
        if not key.startswith('encoder.') or 'fuse_frequency' in key:
            dropped.append(raw)
            continue
        key = key[len('encoder.'):]
        if key.startswith('classifier.'):
            dropped.append(raw)
            continue
        key = _select_stem(key, modality)
        if key is None:
            dropped.append(raw)
            continue
        out[_rename_stem(key)] = value
    _check_blocks(out)  # first: other families' checkpoints may have 'encoder.' keys too
    _check_modality(sd, modality, r'encoder\.')
    return out, dropped


def _to_classifier(sd: StateDict, out: StateDict, dropped: List[str], rs_vheat: bool) -> Tuple[StateDict, List[str]]:
    """Backbone keys under ``backbone.``, the official classifier moved out of ``dropped`` into
    ``backbone.outnorm{last}.*`` (its LayerNorm2d) and ``head.fc.*`` (its Linear)."""
    if any(strip_prefixes(k, ('module.', )).startswith('backbone.') for k in sd):
        raise KeyError(NO_CLASSIFIER.format(what='this is a detection / segmentation checkpoint'))
    # The head is top level in both layouts; 'encoder.classifier.*' is RS_vHeat's own, unused when wrapped.
    heads = {raw: strip_prefixes(raw, ('module.', )) for raw in dropped}
    heads = {raw: key for raw, key in heads.items() if key.startswith('classifier.')}
    if not heads:
        what = 'this is a pretraining checkpoint' if rs_vheat else 'the checkpoint has no classifier.* keys'
        raise KeyError(NO_CLASSIFIER.format(what=what))
    odd = sorted(key for key in heads.values() if not CLASSIFIER_KEY.match(key))
    missing = {'classifier.0.weight', 'classifier.3.weight'} - set(heads.values())
    if odd or missing:
        raise KeyError(f'classifier keys {odd or sorted(missing)} do not fit the official classifier '
                       f'Sequential(LayerNorm2d, AdaptiveAvgPool2d, Flatten, Linear) (classifier.0.*, classifier.3.*); '
                       f'{EXPECTED}')
    last = max(int(k.split('.')[1]) for k in out if HCO_KEY.match(k))
    result = {'backbone.' + k: v for k, v in out.items()}
    for raw, key in heads.items():
        _, index, name = key.split('.')
        result[f'backbone.outnorm{last}.{name}' if index == '0' else f'head.fc.{name}'] = sd[raw]
    return result, [k for k in dropped if k not in heads]


def convert_rs_vheat(ckpt: dict, modality: Optional[str] = 'opt', classifier: bool = False) -> ConversionResult:
    """Official vHeat or RS-vHeat checkpoint -> :class:`~mmrsfm.models.RSvHeat` state dict (the layout
    is detected: RS-vHeat pretraining checkpoints have ``encoder.`` keys).

    vHeat releases: the classifier (or, for a detector / segmentor, everything outside ``backbone.``) is
    dropped; a converted classification release lacks only ``outnorm{i}`` (:data:`VHEAT_CLS_MISSING`).
    Inference-mode checkpoints (``op.k_exp``, no ``to_k``/``freq_embed``) are rejected: they work at
    one input size only; convert the training-mode release.

    RS-vHeat pretraining checkpoints: the ``encoder.`` keys are kept (stems, ``freq_embed.{s}``,
    ``heat_capacity.{s}``, blocks); ``fuse_frequency`` and everything outside the encoder (decoders)
    are dropped. FVE/SCE of another resolution are resized when loaded (``RSvHeat._resize_embeddings``).

    Args:
        ckpt: The loaded checkpoint: ``{'model': ...}``, ``{'state_dict': ...}`` or a bare state dict;
            a DDP ``module.`` prefix is stripped.
        modality: The stem to keep as ``patch_embed`` ('opt' or 'sar'), for a single-modality model
            (``in_channels=3`` or ``1``); the other stem is dropped. None keeps every stem as is, for
            ``in_channels=dict(opt=3, sar=1)``. vHeat releases have one optical stem ('opt' or None).
            Defaults to 'opt'.
        classifier: Return a whole mmpretrain ``ImageClassifier`` state dict from a fine-tuned classifier
            (see the module docstring): ``backbone.*`` (with ``backbone.outnorm{last}.*`` from
            ``classifier.0``) and ``head.fc.*`` (from ``classifier.3``), for ``RSvHeat(out_indices=(last,))``,
            ``GlobalAveragePooling`` and ``LinearClsHead``. Defaults to False.

    Returns:
        ``(state_dict, dropped)``: RSvHeat keys (no ``backbone.`` prefix; with ``classifier``, the
        ImageClassifier's keys) and the sorted source keys left out on purpose.

    Raises:
        KeyError: the checkpoint has neither layout, or no stem for ``modality``; with ``classifier``,
            it has no trained classifier head (pretraining, detection or segmentation checkpoints).
        ValueError: an inference-mode vHeat checkpoint.
    """
    sd = unwrap_state_dict(ckpt)
    rs_vheat = any(strip_prefixes(k, ('module.', )).startswith('encoder.') for k in sd)
    out, dropped = (_convert_pretraining if rs_vheat else _convert_vheat)(sd, modality)
    if classifier:
        out, dropped = _to_classifier(sd, out, dropped, rs_vheat)
    return out, sorted(dropped)
