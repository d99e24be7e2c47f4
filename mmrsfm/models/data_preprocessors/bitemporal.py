"""Data preprocessor for stacked bi-temporal inputs (2C, H, W) = [date A bands; date B bands]."""
from numbers import Number
from typing import Any, Dict, Optional, Sequence

import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor

from mmrsfm.registry import MODELS


@MODELS.register_module()
class BiTemporalDataPreprocessor(SegDataPreProcessor):
    """Normalise each date with per-band statistics, then pad/stack as mmseg's ``SegDataPreProcessor``.

    ``mean``/``std`` give one value per band of *one* date (any band count); both dates use them
    unless ``mean_b``/``std_b`` give date B its own (e.g. two sensors). They are stored concatenated,
    so ``self.mean`` has 2C values, matching the stacked input.

    Args:
        mean: Per-band means of date A (and B). Defaults to None (no normalisation).
        std: Per-band standard deviations of date A (and B). Defaults to None.
        mean_b: Per-band means of date B. Defaults to ``mean``.
        std_b: Per-band standard deviations of date B. Defaults to ``std``.
        bgr_to_rgb: Reverse each 3-band date (images loaded BGR by OpenCV). Defaults to False.
        size: Pad training batches to this (H, W). Defaults to None.
        size_divisor: Pad training batches to a multiple of this. Defaults to None.
        pad_val: Image padding value. Defaults to 0.
        seg_pad_val: Change-map padding value (ignored by the loss). Defaults to 255.
        test_cfg: ``dict(size=...)`` or ``dict(size_divisor=...)`` padding at test time. Defaults to None.
    """
    #: Dates stacked on the channel axis (read by ``InputChannelsCheckHook`` for its messages).
    num_dates = 2

    def __init__(self,
                 mean: Optional[Sequence[Number]] = None,
                 std: Optional[Sequence[Number]] = None,
                 mean_b: Optional[Sequence[Number]] = None,
                 std_b: Optional[Sequence[Number]] = None,
                 bgr_to_rgb: bool = False,
                 size: Optional[tuple] = None,
                 size_divisor: Optional[int] = None,
                 pad_val: Number = 0,
                 seg_pad_val: Number = 255,
                 test_cfg: Optional[dict] = None) -> None:
        if (mean is None) != (std is None) or (mean is None and (mean_b is not None or std_b is not None)):
            raise ValueError('give both mean and std (and mean_b/std_b only together with them)')
        if mean is not None:
            mean_b, std_b = mean if mean_b is None else mean_b, std if std_b is None else std_b
            if not len(mean) == len(std) == len(mean_b) == len(std_b):
                raise ValueError(f'mean/std/mean_b/std_b need one value per band of a date, got lengths '
                                 f'{len(mean)}/{len(std)}/{len(mean_b)}/{len(std_b)}')
            mean, std = list(mean) + list(mean_b), list(std) + list(std_b)
        # Channel reversal is done per date below; mmseg's own only acts on exactly 3 channels.
        super().__init__(mean=mean, std=std, size=size, size_divisor=size_divisor, pad_val=pad_val,
                         seg_pad_val=seg_pad_val, bgr_to_rgb=False, test_cfg=test_cfg)
        self.bgr_to_rgb = bgr_to_rgb

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        data = self.cast_data(data)
        inputs = data['inputs']  # list of (2C, H, W), or a (N, 2C, H, W) batch
        channels = inputs[0].shape[0]
        if channels % 2:
            raise ValueError(f'bi-temporal inputs need an even channel count (2 dates), got {channels}; '
                             f'load them with mmrsfm.LoadBiTemporalImages and pack with mmrsfm.PackCDInputs')
        if self._enable_normalize and self.mean.numel() != channels:
            raise ValueError(f'the data has {channels // 2} bands per date but model.data_preprocessor.mean/std '
                             f'have {self.mean.numel() // 2}. Fix: give {channels // 2} per-band values.')
        if self.bgr_to_rgb:
            if channels != 6:
                raise ValueError(f'bgr_to_rgb=True needs 3-band dates, got {channels // 2} bands per date; '
                                 f'set model.data_preprocessor.bgr_to_rgb=False for multispectral data')
            order = torch.tensor([2, 1, 0, 5, 4, 3], device=inputs[0].device)
            inputs = [x.index_select(0, order) for x in inputs]
        data['inputs'] = inputs
        return super().forward(data, training)
