"""Fail early, with the config field to change, when image bands and model channels disagree, and
when the data pipeline loads fewer bands than the files hold."""
import copy
import os.path as osp
import random
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn

from mmrsfm.registry import HOOKS

DataBatch = Optional[Union[dict, tuple, list]]
#: Loading transforms that select bands on purpose (fewer loaded bands than the file holds is intended).
BAND_SELECTING = {'LoadMultiBandImage': ('bands', 'drop_bands'), 'LoadBiTemporalMultiBandImages': ()}


def _first_conv(module: nn.Module) -> Optional[Tuple[str, nn.Module]]:
    for name, sub in module.named_modules():
        if isinstance(sub, (nn.Conv2d, nn.Conv3d)):
            return name, sub
    return None


def file_band_count(path: str) -> Optional[int]:
    """Bands stored in an image file, from its header (None when it cannot be told). A PNG alpha
    channel that is fully opaque is not counted (it is transparency, not a band)."""
    if not isinstance(path, str) or not osp.isfile(path):
        return None
    if path.lower().endswith(('.tif', '.tiff')):
        try:
            import rasterio
            with rasterio.open(path) as src:
                return src.count
        except Exception:  # noqa: BLE001 - unreadable files are reported by the loaders
            return None
    try:
        from PIL import Image
        with Image.open(path) as img:
            bands = img.getbands()
            if bands[-1] == 'A' and img.getchannel('A').getextrema() == (255, 255):
                return len(bands) - 1
            return len(bands)
    except Exception:  # noqa: BLE001
        return None


def _bands_in(results: Optional[dict]) -> Optional[int]:
    """Band count of the image in a pipeline's results (numpy (H, W[, C]) or packed (C, H, W) tensor)."""
    if not isinstance(results, dict):
        return None
    img = results.get('img')
    if isinstance(img, np.ndarray):
        return 1 if img.ndim == 2 else img.shape[2]
    inputs = results.get('inputs')
    if isinstance(inputs, torch.Tensor) and inputs.dim() == 3:
        return inputs.shape[0]
    return None


def _base_dataset(dataset):
    """The first dataset with a pipeline inside Concat/Repeat/ClassBalanced wrappers."""
    for _ in range(8):
        if hasattr(dataset, 'pipeline') and hasattr(dataset, 'get_data_info'):
            return dataset
        inner = getattr(dataset, 'dataset', None)
        if inner is None and getattr(dataset, 'datasets', None):
            inner = dataset.datasets[0]
        if inner is None:
            return None
        dataset = inner
    return None


class _KeepRandomState:
    """Run a pipeline for a check without moving numpy's, Python's or torch's random stream."""

    def __enter__(self):
        self.states = np.random.get_state(), random.getstate(), torch.get_rng_state()

    def __exit__(self, *exc):
        np.random.set_state(self.states[0])
        random.setstate(self.states[1])
        torch.set_rng_state(self.states[2])


def trace_band_counts(dataset, index: int = 0, seed: Optional[int] = None) -> List[Tuple[str, Optional[int]]]:
    """``[(transform name, bands after it), ...]`` for sample ``index`` through ``dataset``'s pipeline
    (random states restored afterwards; stops at a transform that fails or drops the sample). ``seed``
    seeds numpy, Python and torch for the run, so that random transforms take reproducible branches."""
    dataset = _base_dataset(dataset)
    if dataset is None or not len(dataset):
        return []
    trace = []
    with _KeepRandomState():
        if seed is not None:
            np.random.seed(seed)
            random.seed(seed)
            torch.manual_seed(seed)
        try:
            results = dataset.get_data_info(index)
            for transform in dataset.pipeline.transforms:
                results = transform(results)
                if results is None:
                    break
                trace.append((type(transform).__name__, _bands_in(results)))
        except Exception:  # noqa: BLE001 - only an aid for an error message being raised anyway
            pass
    return trace


def first_band_change(trace: Sequence[Tuple[str, Optional[int]]]) -> Optional[Tuple[int, str, int, int]]:
    """``(position, name, bands before, bands after)`` of the first transform after loading that changes
    the band count, or None."""
    for i in range(1, len(trace)):
        before, after = trace[i - 1][1], trace[i][1]
        if before is not None and after is not None and before != after:
            return i, trace[i][0], before, after
    return None


def _bands_of(inputs) -> Optional[int]:
    """Band count of a batch as the data loader yields it: a list of (C, H, W) or a (B, C, H, W)."""
    if isinstance(inputs, torch.Tensor):
        return inputs.shape[1] if inputs.dim() == 4 else None
    if isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], torch.Tensor):
        return inputs[0].shape[0] if inputs[0].dim() == 3 else None
    return None


@HOOKS.register_module()
class InputChannelsCheckHook(Hook):
    """Check every batch's band count against the data preprocessor and the backbone's stem.

    Without it a 4-band GeoTIFF fed to a 3-band config dies deep inside a broadcast or a conv with
    ``expected input ... to have 3 channels``; this hook names the fields to change instead.
    ``tools/train.py`` and ``tools/test.py`` add it to every config; other entry points can list it
    in ``custom_hooks``.

    When a mismatch is found, the message also names the first transform of the data pipeline that
    changed the band count (e.g. mmseg's ``PhotoMetricDistortion``, which turns a 4-band image into 3
    bands), from a trace of the first sample through the pipeline.

    Before the first train / val / test iteration it also checks that the pipeline's loading transform
    keeps every band of the first sample's file(s): ``LoadImageFromFile`` with its default
    ``color_type='color'`` reads 3 bands of a 4-band Potsdam RGBIR PNG and drops the IR band without a
    word. A band selection (``mmrsfm.LoadMultiBandImage(bands=...)`` or ``drop_bands=...``) is respected.

    Args:
        check_file_bands: Run that loading check. Defaults to True.
    """

    priority = 'VERY_HIGH'

    def __init__(self, check_file_bands: bool = True) -> None:
        self.check_file_bands = check_file_bands
        self._datasets: Dict[str, object] = {}
        self._split = 'train'
        self._mean_len, self._dates = None, 1

    def _loop_dataset(self, runner, split: str):
        loop = getattr(runner, f'{split}_loop', None)
        dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        if dataset is not None and split not in self._datasets:
            self._datasets[split] = dataset
            if self.check_file_bands:
                self._check_loaded_bands(dataset, split)

    def _check_loaded_bands(self, dataset, split: str) -> None:
        """The loading transform must keep every band the first sample's file(s) hold (see the class doc)."""
        dataset = _base_dataset(dataset)
        if dataset is None or not len(dataset) or not dataset.pipeline.transforms:
            return
        loader = dataset.pipeline.transforms[0]
        name = type(loader).__name__
        selecting = BAND_SELECTING.get(name)
        if selecting is not None and (not selecting or any(getattr(loader, k, None) for k in selecting)):
            return
        info = dataset.get_data_info(0)
        paths = info.get('img_path')
        paths = [paths] if isinstance(paths, str) else list(paths) if isinstance(paths, (list, tuple)) else []
        if not paths or not all(isinstance(p, str) for p in paths):
            return  # dicts of modalities, per-band file lists: loaded band by band
        counts = [file_band_count(p) for p in paths]
        if any(c is None for c in counts):
            return
        with _KeepRandomState():
            try:
                loaded = _bands_in(loader(copy.deepcopy(info)))
            except Exception:  # noqa: BLE001 - a broken file is reported by the pipeline itself
                return
        if loaded is None or loaded >= sum(counts):
            return
        stored = sum(counts)
        raise ValueError(
            f"{split} data: '{paths[0]}' holds {counts[0]} bands but the pipeline's first transform {name} "
            f"(color_type={getattr(loader, 'color_type', '?')!r}) loads {loaded // len(paths)}: the other band(s) "
            f"(e.g. Potsdam's near-infrared) would be dropped without notice. Fix: load every band with "
            f"dict(type='{name}', color_type='unchanged') (as configs/seg/upernet/*_potsdam-rgbir-*.py do) and "
            f'give model.data_preprocessor {stored // len(paths)} mean/std values and model.backbone.in_channels='
            f"{stored // len(paths)}; or select bands on purpose with dict(type='mmrsfm.LoadMultiBandImage', "
            f"band_names=[...], bands=[...]); or switch this check off with custom_hooks=[dict("
            f"type='mmrsfm.InputChannelsCheckHook', check_file_bands=False)].")

    def _pipeline_hint(self) -> str:
        """Where in the running split's pipeline the band count changes (empty when unknown)."""
        dataset = self._datasets.get(self._split)
        if dataset is None:
            return ''
        # A random transform may change the band count only on some draws (PhotoMetricDistortion's HSV
        # steps run with probability 1/2 each): trace a few seeded draws until one shows the change.
        for seed in range(8):
            trace = trace_band_counts(dataset, seed=seed)
            change = first_band_change(trace)
            if change is not None:
                break
        if change is None:
            if trace and trace[0][1] is not None:
                return (f' (The {self._split} pipeline loads {trace[0][1]} bands with {trace[0][0]} and no '
                        f'transform changes that.)')
            return ''
        position, name, before, after = change
        hint = (f' The {self._split} data pipeline changes the band count at transform #{position} {name} '
                f'({before} -> {after} bands), after {trace[0][0]} loaded {trace[0][1]}.')
        if before > after and name == 'PhotoMetricDistortion':
            hint += (f" {name} is made for 3-band colour images: run it on those bands only with dict(type="
                     f"'mmrsfm.ApplyToBands', bands=(0, 1, 2), transforms=[dict(type='{name}')]).")
        elif before > after:
            hint += (f" Fix that transform (or wrap it: dict(type='mmrsfm.BandChunks', transforms=[...]) for "
                     f"geometric ones, dict(type='mmrsfm.ApplyToBands', bands=..., transforms=[...]) for colour "
                     f'ones) so that every band passes.')
        return hint

    def before_train(self, runner) -> None:
        self._loop_dataset(runner, 'train')

    def before_val(self, runner) -> None:
        self._loop_dataset(runner, 'val')

    def before_test(self, runner) -> None:
        self._loop_dataset(runner, 'test')

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._mean_len = None
        preprocessor = getattr(model, 'data_preprocessor', None)
        if getattr(preprocessor, '_enable_normalize', False):
            self._mean_len = preprocessor.mean.numel()
        # bi-temporal inputs stack the dates on channels; mean/std are given per date
        self._dates = getattr(preprocessor, 'num_dates', 1)
        backbone = getattr(model, 'backbone', None)
        if not isinstance(backbone, nn.Module):
            return
        # Backbones with one stem per modality declare the band counts they accept.
        declared = getattr(backbone, 'input_bands', None)
        if declared:
            expected, where = tuple(declared), 'its stems'
        else:
            found = _first_conv(backbone)
            if found is None:
                return
            expected, where = (found[1].in_channels, ), f'its first layer backbone.{found[0]}'
        backbone.register_forward_pre_hook(self._make_backbone_check(type(backbone).__name__, where, expected))

    def _make_backbone_check(self, cls_name: str, where: str, expected: Tuple[int, ...]):
        shown = expected[0] if len(expected) == 1 else ' or '.join(map(str, expected))

        def check(module: nn.Module, args: tuple) -> None:
            bands = _bands_of(args[0]) if args else None
            if bands is not None and bands not in expected:
                raise ValueError(
                    f'model.backbone ({cls_name}) was built for in_channels={shown} ({where}) but '
                    f'received {bands}-band input of shape {tuple(args[0].shape)}. Fix: set '
                    f'model.backbone.in_channels={bands} in the config (with {bands} values in '
                    f'model.data_preprocessor.mean/std), or select {shown} bands in the data pipeline.'
                    + self._pipeline_hint())

        return check

    def _check_batch(self, data_batch: DataBatch) -> None:
        if self._mean_len is None or not isinstance(data_batch, dict):
            return
        bands = _bands_of(data_batch.get('inputs'))
        if bands is not None and bands != self._mean_len:
            dates = self._dates  # bi-temporal inputs: values are counted per date
            got, have = bands // dates, self._mean_len // dates
            what, per = (f'{bands}-band images', '') if dates == 1 else (f'{dates} dates of {got} bands', ' per date')
            raise ValueError(
                f'The data pipeline yields {what} but model.data_preprocessor.mean/std '
                f'have {have} values{per}. Fix: give {got} values for '
                f'model.data_preprocessor.mean and .std (and set model.backbone.in_channels={got}), '
                f'or select {have} bands in the pipeline.' + self._pipeline_hint())

    def before_train_iter(self, runner, batch_idx: int, data_batch: DataBatch = None) -> None:
        self._split = 'train'
        self._check_batch(data_batch)

    def before_val_iter(self, runner, batch_idx: int, data_batch: DataBatch = None) -> None:
        self._split = 'val'
        self._check_batch(data_batch)

    def before_test_iter(self, runner, batch_idx: int, data_batch: DataBatch = None) -> None:
        self._split = 'test'
        self._check_batch(data_batch)

