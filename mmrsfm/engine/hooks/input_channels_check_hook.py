"""Fail early, with the config field to change, when image bands and model channels disagree."""
from typing import Optional, Tuple, Union

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn

from mmrsfm.registry import HOOKS

DataBatch = Optional[Union[dict, tuple, list]]


def _first_conv(module: nn.Module) -> Optional[Tuple[str, nn.Module]]:
    for name, sub in module.named_modules():
        if isinstance(sub, (nn.Conv2d, nn.Conv3d)):
            return name, sub
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
    """

    priority = 'VERY_HIGH'

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

    @staticmethod
    def _make_backbone_check(cls_name: str, where: str, expected: Tuple[int, ...]):
        shown = expected[0] if len(expected) == 1 else ' or '.join(map(str, expected))

        def check(module: nn.Module, args: tuple) -> None:
            bands = _bands_of(args[0]) if args else None
            if bands is not None and bands not in expected:
                raise ValueError(
                    f'model.backbone ({cls_name}) was built for in_channels={shown} ({where}) but '
                    f'received {bands}-band input of shape {tuple(args[0].shape)}. Fix: set '
                    f'model.backbone.in_channels={bands} in the config (with {bands} values in '
                    f'model.data_preprocessor.mean/std), or select {shown} bands in the data pipeline.')

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
                f'or select {have} bands in the pipeline.')

    def before_train_iter(self, runner, batch_idx: int, data_batch: DataBatch = None) -> None:
        self._check_batch(data_batch)

    def before_val_iter(self, runner, batch_idx: int, data_batch: DataBatch = None) -> None:
        self._check_batch(data_batch)

    def before_test_iter(self, runner, batch_idx: int, data_batch: DataBatch = None) -> None:
        self._check_batch(data_batch)

