"""Data preprocessors for multispectral inputs of any band count: per-band mean/std or per-image min-max.

mmseg's ``SegDataPreProcessor`` already normalises N bands correctly: ``mean``/``std`` become (C, 1, 1)
buffers broadcast over each (C, H, W) input, and its BGR->RGB swap is skipped unless an input has
exactly 3 channels. What it lacks is the normalisation SpectralGPT pretrains and fine-tunes with:
**per-image, per-band min-max** to [0, 1] (``(x - min) / (max - min + eps)`` over each band's
pixels). The classes below add it (``norm='minmax'``) and check band counts with clear errors;
padding (``size`` / ``size_divisor``, labels padded with ``seg_pad_val`` = 255) is mmseg's.
"""
import warnings
from numbers import Number
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.utils import stack_batch

from mmrsfm.registry import MODELS
from ..utils.band_norm import minmax_per_band
from .bitemporal import BiTemporalDataPreprocessor

NORM_MODES = ('minmax', None)


def _check_norm(norm: Optional[str]) -> None:
    if norm not in NORM_MODES:
        raise ValueError(f'norm must be one of {NORM_MODES}, got {norm!r}')


def _as_list(inputs: Union[torch.Tensor, Sequence[torch.Tensor]]) -> List[torch.Tensor]:
    return list(inputs.unbind(0)) if isinstance(inputs, torch.Tensor) else list(inputs)


@MODELS.register_module()
class MultiSpectralDataPreprocessor(SegDataPreProcessor):
    """mmseg's ``SegDataPreProcessor`` for any band count, with optional per-image min-max.

    Order: cast to float, per-image per-band min-max (``norm='minmax'``), then ``(x - mean) / std``
    (if given), then mmseg's batching and padding. Works for segmentation (``SegDataSample`` labels
    padded with ``seg_pad_val``), and for pretraining: a batch without ``data_samples`` (or a
    plain (N, C, H, W) tensor) is padded/stacked and returned with ``data_samples=None``.

    Args:
        mean: Per-band means (one per band). Defaults to None.
        std: Per-band standard deviations. Defaults to None.
        norm: ``'minmax'`` for per-image per-band min-max to [0, 1], or None. Defaults to None.
        num_bands: Expected band count, checked on every batch (a clear error instead of a shape
            mismatch deep in the backbone). Defaults to None (not checked; mean/std lengths are).
        size: Pad training batches to this (H, W). Defaults to None.
        size_divisor: Pad training batches to a multiple of this. Defaults to None.
        pad_val: Image padding value (after normalisation). Defaults to 0.
        seg_pad_val: Label padding value. Defaults to 255.
        test_cfg: ``dict(size=...)`` or ``dict(size_divisor=...)`` padding at test time. Defaults to None.
        batch_augments: mmseg batch augments. Defaults to None.
    """

    def __init__(self,
                 mean: Optional[Sequence[Number]] = None,
                 std: Optional[Sequence[Number]] = None,
                 norm: Optional[str] = None,
                 num_bands: Optional[int] = None,
                 size: Optional[tuple] = None,
                 size_divisor: Optional[int] = None,
                 pad_val: Number = 0,
                 seg_pad_val: Number = 255,
                 test_cfg: Optional[dict] = None,
                 batch_augments: Optional[List[dict]] = None) -> None:
        _check_norm(norm)
        if (mean is None) != (std is None) or (mean is not None and len(mean) != len(std)):
            raise ValueError('give mean and std together, one value per band')
        if num_bands is not None and mean is not None and len(mean) != num_bands:
            raise ValueError(f'num_bands={num_bands} but mean/std have {len(mean)} values')
        super().__init__(mean=mean, std=std, size=size, size_divisor=size_divisor, pad_val=pad_val,
                         seg_pad_val=seg_pad_val, bgr_to_rgb=False, rgb_to_bgr=False, test_cfg=test_cfg,
                         batch_augments=batch_augments)
        self.norm = norm
        self.num_bands = num_bands if num_bands is not None else (None if mean is None else len(mean))

    def _check_bands(self, inputs: List[torch.Tensor]) -> None:
        got = {x.shape[0] for x in inputs}
        if self.num_bands is not None and got != {self.num_bands}:
            raise ValueError(f'the batch has {sorted(got)} bands but model.data_preprocessor expects '
                             f'{self.num_bands} (num_bands / mean / std). Fix: select bands when loading '
                             f'(LoadMultiBandImage bands=...), pad them (PadBands) or change the config.')

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        data = self.cast_data(data)
        inputs = [x.float() for x in _as_list(data['inputs'])]
        self._check_bands(inputs)
        if self.norm == 'minmax':
            inputs = [minmax_per_band(x) for x in inputs]
        data = {**data, 'inputs': inputs}
        if data.get('data_samples') is None:  # pretraining: images only
            if self._enable_normalize:
                inputs = [(x - self.mean) / self.std for x in inputs]
            pad = dict(size=self.size, size_divisor=self.size_divisor) if training else (self.test_cfg or {})
            if pad.get('size') is not None or pad.get('size_divisor') is not None:
                batch, _ = stack_batch(inputs, None, size=pad.get('size'), size_divisor=pad.get('size_divisor'),
                                       pad_val=self.pad_val)
            else:
                batch = torch.stack(inputs)
            return dict(inputs=batch, data_samples=None)
        return super().forward(data, training)


@MODELS.register_module(name='MultiSpectralDataPreProcessor')
class MultiSpectralDataPreProcessor(MultiSpectralDataPreprocessor):
    """Deprecated (v0.1) spelling of :class:`MultiSpectralDataPreprocessor`; removed in v0.3."""
    _warned = False

    def __init__(self, *args, **kwargs) -> None:
        # Once per process: a config builds its preprocessor for every runner and test.
        if not MultiSpectralDataPreProcessor._warned:
            MultiSpectralDataPreProcessor._warned = True
            warnings.warn("'MultiSpectralDataPreProcessor' is deprecated; use 'MultiSpectralDataPreprocessor' "
                          '(the spelling of every mmrsfm data preprocessor; removed in v0.3)', FutureWarning,
                          stacklevel=2)
        super().__init__(*args, **kwargs)


@MODELS.register_module()
class MultiSpectralBiTemporalDataPreprocessor(BiTemporalDataPreprocessor):
    """:class:`~mmrsfm.models.data_preprocessors.BiTemporalDataPreprocessor` (stacked pairs
    (2C, H, W), per-band ``mean``/``std`` of one date) with optional per-image min-max.

    Min-max works per channel, so on the stacked pair it is exactly per-date, per-band min-max.

    Args:
        norm: ``'minmax'`` or None. Defaults to None.
        **kwargs: :class:`BiTemporalDataPreprocessor` arguments (``bgr_to_rgb`` is off by default).
    """

    def __init__(self, norm: Optional[str] = None, **kwargs) -> None:
        _check_norm(norm)
        super().__init__(**kwargs)
        self.norm = norm

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        if self.norm == 'minmax':
            data = self.cast_data(data)
            data = {**data, 'inputs': [minmax_per_band(x.float()) for x in _as_list(data['inputs'])]}
        return super().forward(data, training)
