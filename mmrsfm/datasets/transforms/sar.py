"""SAR intensity / amplitude scaling."""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmrsfm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SARToDecibels(BaseTransform):
    """Convert SAR backscatter to decibels and clip: ``20 log10(max(x, eps))`` for amplitudes (the
    default; AIR-PolSAR-Seg and most GF-3 products store amplitudes), ``10 log10(max(x, eps))`` for
    intensities (power, e.g. Sentinel-1 GRD sigma0 in linear units).

    Why: linear backscatter spans several decades and its speckle is multiplicative; in dB classes
    differ by offsets and the speckle is additive, so the data preprocessor's per-band mean/std (given
    in dB, see the AIR-PolSAR-Seg configs) makes sense. ``clip`` bounds the few very bright scatterers
    (and the ``eps`` floor of zero-valued no-data pixels) so they do not dominate those statistics.

    Args:
        amplitude: Input is amplitude (20 log10) rather than intensity (10 log10). Defaults to True.
        clip: ``(low, high)`` in dB, or None for no clipping. Defaults to (0.0, 80.0), which keeps every
            non-zero value of 16-bit amplitudes up to ~10^4.
        eps: Floor before the logarithm (zeros become ``log10(eps)`` dB, then ``low``). Defaults to 1.0.
        bands: Band indices to convert (others are left as they are); None for all. Defaults to None.
    """

    def __init__(self, amplitude: bool = True, clip: Optional[Tuple[float, float]] = (0.0, 80.0), eps: float = 1.0,
                 bands: Optional[Sequence[int]] = None) -> None:
        if eps <= 0:
            raise ValueError(f'SARToDecibels: eps must be positive (log10 of it is the floor), got {eps}')
        if clip is not None and not clip[0] < clip[1]:
            raise ValueError(f'SARToDecibels: clip must be (low, high) with low < high, got {clip}')
        self.amplitude, self.clip, self.eps = amplitude, None if clip is None else tuple(clip), float(eps)
        self.bands = None if bands is None else [int(b) for b in bands]

    def transform(self, results: dict) -> dict:
        img = np.asarray(results['img'], dtype=np.float32)
        if np.nanmin(img) < 0:  # dB or calibrated-complex input would be silently mangled by the floor
            raise ValueError(f"SARToDecibels: {results.get('img_path')} has negative values (min "
                             f'{float(np.nanmin(img)):g}): it is not linear amplitude / intensity (already in dB?). '
                             f'Fix: drop SARToDecibels from the pipeline, or give linear data.')
        sel = slice(None) if self.bands is None else self.bands
        part = img[..., sel] if img.ndim == 3 else img
        db = (20.0 if self.amplitude else 10.0) * np.log10(np.maximum(part, self.eps))
        if self.clip is not None:
            db = np.clip(db, *self.clip)
        if img.ndim == 3:
            img = img.copy()
            img[..., sel] = db
        else:
            img = db
        results['img'] = img.astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(amplitude={self.amplitude}, clip={self.clip}, eps={self.eps}, '
                f'bands={self.bands})')
