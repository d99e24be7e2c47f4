"""Transforms for bi-temporal (change-detection) samples.

Pipeline contract: :class:`LoadBiTemporalImages` stacks the two dates on the channel axis,
``results['img'] = [A; B]`` of shape (H, W, 2C), and records ``results['bands_per_date'] = C``.
Because A and B live in one array, mmseg's geometric transforms (``RandomResize``, ``RandomCrop``,
``RandomFlip``, ``Resize``, ``RandomRotate``) and :class:`RandomRotate90` move both dates and the
label together and cannot misalign them. Photometric transforms must instead see each date on its
own (a brightness change on one date only is exactly the nuisance a change detector must ignore), so
they are wrapped in :class:`ApplyPerDate`. :class:`PackCDInputs` yields ``inputs`` of shape (2C, H, W).
"""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmseg.datasets.transforms import PackSegInputs

from mmrsfm.registry import TRANSFORMS
from ..label_checks import check_label_values
from ..raster import read_raster

#: One date: an image file of any band count, or single-band files stacked in the given order.
DatePath = Union[str, Sequence[str]]


def stack_bands(bands: List[np.ndarray], paths: Sequence[str]) -> np.ndarray:
    """Stack rasters of one scene into (H, W, sum C) on the grid of the finest (largest) one.

    Coarser rasters (e.g. Sentinel-2's 20 m and 60 m bands next to the 10 m ones) are upsampled by
    their integer resolution ratio with bicubic interpolation on pixel areas (cv2 ``INTER_CUBIC``,
    half-pixel aligned, so a coarse pixel covers exactly its ratio x ratio fine pixels), then cropped
    or edge-padded at the bottom/right to the fine grid: the rasters share their top-left corner.
    Resampled bands are float32.

    Raises:
        ValueError: A raster's size is not an integer fraction of the finest grid.
    """
    height, width = max((b.shape[:2] for b in bands), key=lambda s: s[0] * s[1])
    out = []
    for band, path in zip(bands, paths):
        h, w = band.shape[:2]
        if (h, w) != (height, width):
            ratio = int(round(max(height / h, width / w)))
            if ratio < 2 or abs(h * ratio - height) >= ratio or abs(w * ratio - width) >= ratio:
                raise ValueError(
                    f"band file '{path}' is {h}x{w} but the finest band of the same date is "
                    f'{height}x{width}: not an integer resolution ratio (e.g. 10/20/60 m). Fix: give '
                    f'co-registered bands of one scene, or resample them to one grid first.')
            band = mmcv.imresize(band.astype(np.float32), (w * ratio, h * ratio), interpolation='bicubic')
            band = band.reshape(h * ratio, w * ratio, -1)[:height, :width]
            pad = ((0, height - band.shape[0]), (0, width - band.shape[1]), (0, 0))
            band = np.pad(band, pad, mode='edge')
        out.append(band)
    return np.concatenate(out, axis=-1)


def _describe(date: DatePath) -> str:
    if isinstance(date, str):
        return f"'{date}'"
    return f"'{osp.dirname(date[0]) or '.'}' ({len(date)} band files)"


@TRANSFORMS.register_module()
class LoadBiTemporalImages(BaseTransform):
    """Load the two dates of ``results['img_path'] = (A, B)`` and stack them as (H, W, 2C).

    Each date is an image file (PNG/JPEG through mmcv; GeoTIFF of any band count through rasterio,
    see :func:`mmrsfm.datasets.raster.read_raster`) or a sequence of single-band files of one scene,
    e.g. OSCD's per-band Sentinel-2 GeoTIFFs, which are stacked in order on the finest band's grid
    (see :func:`stack_bands`).

    Added keys: ``img`` (H, W, 2C), ``img_shape``, ``ori_shape``, ``bands_per_date`` (C).

    Args:
        to_float32: Cast to float32. Defaults to False.
        color_type: mmcv ``flag`` for PNG/JPEG dates: ``'color'`` (3 bands, BGR like mmseg's
            ``LoadImageFromFile``) or ``'unchanged'`` (as stored). GeoTIFF bands keep file order.
            Defaults to ``'color'``.
        backend_args: mmengine file backend arguments. Defaults to None.
    """

    def __init__(self, to_float32: bool = False, color_type: str = 'color',
                 backend_args: Optional[dict] = None) -> None:
        self.to_float32, self.color_type = to_float32, color_type
        self.backend_args = None if backend_args is None else dict(backend_args)

    def _read_date(self, date: DatePath) -> np.ndarray:
        if isinstance(date, str):
            return read_raster(date, self.color_type, self.backend_args)
        if not date:
            raise ValueError('a date given as a list of band files has no files')
        return stack_bands([read_raster(p, self.color_type, self.backend_args) for p in date], date)

    def transform(self, results: dict) -> dict:
        paths = results['img_path']
        if isinstance(paths, str) or len(paths) != 2:
            raise ValueError(f'img_path must be a pair (date A, date B) for change detection, got {paths!r}')
        img_a, img_b = (self._read_date(p) for p in paths)
        if img_a.shape[:2] != img_b.shape[:2]:
            raise ValueError(
                f'date A {_describe(paths[0])} is {img_a.shape[0]}x{img_a.shape[1]} but date B '
                f'{_describe(paths[1])} is {img_b.shape[0]}x{img_b.shape[1]}. Fix: co-register and crop '
                f'both dates to the same grid.')
        if img_a.shape[2] != img_b.shape[2]:
            raise ValueError(f'date A {_describe(paths[0])} has {img_a.shape[2]} bands but date B '
                             f'{_describe(paths[1])} has {img_b.shape[2]}. Fix: give both dates the same bands.')
        img = np.concatenate([img_a, img_b], axis=-1)  # (H, W, 2C): [A bands; B bands]
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        results['bands_per_date'] = img_a.shape[2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(to_float32={self.to_float32}, color_type={self.color_type!r})'


@TRANSFORMS.register_module()
class LoadCDAnnotations(BaseTransform):
    """Load a change map as ``gt_seg_map`` (H, W) uint8 class indices, mmseg-style.

    Values are mapped with the sample's ``label_map`` (datasets set it from their stored label values,
    e.g. LEVIR-CD's 0/255 -> 0/1) after ``reduce_zero_label``, as mmseg's ``LoadAnnotations`` does.
    A grey map stored as RGB is accepted; a label whose size differs from the images' is an error.
    When the sample carries ``label_check`` (the datasets of :mod:`mmrsfm.datasets.change_detection`
    add it), the stored values are checked against the dataset's once per file
    (:func:`mmrsfm.datasets.label_checks.check_label_values`): an unexpected value is an error
    naming the file, the values and the fix.

    Args:
        backend_args: mmengine file backend arguments. Defaults to None.
    """

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        self.backend_args = None if backend_args is None else dict(backend_args)

    def transform(self, results: dict) -> dict:
        path = results['seg_map_path']
        raw = read_raster(path, 'unchanged', self.backend_args)
        if raw.shape[2] > 1 and not (raw == raw[..., :1]).all():
            raise ValueError(f"label '{path}' has {raw.shape[2]} differing channels; change maps must be "
                             f'single-band class indices. Fix: convert the colour map to indices.')
        if raw.max() > 255 or raw.min() < 0:
            raise ValueError(f"label '{path}' has values outside 0..255 ({raw.min()}..{raw.max()})")
        spec = results.get('label_check')
        if spec:
            check_label_values(path, raw[..., 0], spec['values'], spec['dataset'], spec['expected'])
        label = raw[..., 0].astype(np.uint8)
        ori_shape = results.get('ori_shape')
        if ori_shape is not None and tuple(label.shape) != tuple(ori_shape[:2]):
            raise ValueError(
                f"label '{path}' is {label.shape[0]}x{label.shape[1]} but its images "
                f'{results.get("img_path")} are {ori_shape[0]}x{ori_shape[1]}. Fix: the change map must '
                f'cover the image pair pixel for pixel.')
        if results.get('reduce_zero_label', False):  # as mmseg: 0 becomes ignored (255), k becomes k-1
            label = np.where(label == 0, 255, label - 1).astype(np.uint8)
            label[label == 254] = 255
        if results.get('label_map'):
            source = label.copy()  # map from the original values so chained mappings cannot collide
            for old, new in results['label_map'].items():
                label[source == old] = new
        results['gt_seg_map'] = label
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results


@TRANSFORMS.register_module()
class RandomRotate90(BaseTransform):
    """Rotate the image (both dates) and every map in ``seg_fields`` by the same k x 90 degrees.

    Exact (no interpolation) and updates ``img_shape`` for non-square inputs.

    Args:
        prob: Probability of rotating; k is then uniform in {1, 2, 3}. Defaults to 0.5.
    """

    def __init__(self, prob: float = 0.5) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        k = int(np.random.randint(1, 4))
        for key in ['img'] + list(results.get('seg_fields', [])):
            results[key] = np.ascontiguousarray(np.rot90(results[key], k))
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class ApplyPerDate(BaseTransform):
    """Run ``transforms`` on each date's bands separately, with independent random draws.

    For photometric transforms (e.g. mmseg's ``PhotoMetricDistortion`` on 3-band dates): each date
    gets its own brightness/contrast/hue. Transforms that change the image size or band count are
    refused, since they would misalign the dates.

    Args:
        transforms: Transform configs (or callables) applied to one date's (H, W, C) image.
    """

    def __init__(self, transforms: Sequence[Union[dict, Callable]]) -> None:
        self.pipeline = Compose(list(transforms))

    def transform(self, results: dict) -> dict:
        img, bands = results['img'], results['bands_per_date']
        dates = []
        for d in range(2):
            # A shallow copy: a transform may read meta keys, but only the image comes back.
            out = self.pipeline({**results, 'img': np.ascontiguousarray(img[..., d * bands:(d + 1) * bands])})
            if out is None or out['img'].shape[:2] != img.shape[:2] or out['img'].shape[-1] != bands:
                got = None if out is None else out['img'].shape
                raise ValueError(f'ApplyPerDate({self.pipeline}) must keep each date at '
                                 f'{img.shape[:2] + (bands, )}, got {got}: use geometric transforms outside '
                                 f'ApplyPerDate, where they act on both dates and the label together.')
            dates.append(out['img'])
        results['img'] = np.concatenate(dates, axis=-1)  # (H, W, 2C)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.pipeline})'


@TRANSFORMS.register_module()
class PackCDInputs(PackSegInputs):
    """Pack ``img`` as ``inputs`` (2C, H, W) = [A bands; B bands] and the change map as
    ``data_samples.gt_sem_seg``; ``bands_per_date`` and the image pair's paths go to the metainfo.

    Args:
        meta_keys: Keys copied to the data sample's metainfo.
    """

    def __init__(self, meta_keys: Tuple[str, ...] = (
            'img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor', 'flip',
            'flip_direction', 'reduce_zero_label', 'bands_per_date')) -> None:
        super().__init__(meta_keys=tuple(meta_keys))

    def transform(self, results: dict) -> dict:
        channels, bands = results['img'].shape[-1], results.get('bands_per_date')
        if bands is None or channels != 2 * bands:
            raise ValueError(f'PackCDInputs expects the stacked pair of LoadBiTemporalImages '
                             f'(2 x bands_per_date={bands} channels), got {channels} channels for '
                             f'{results.get("img_path")}; a transform changed the band count.')
        return super().transform(results)
