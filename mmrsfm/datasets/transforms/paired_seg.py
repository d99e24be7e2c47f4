"""Co-registered modalities (e.g. optical + SAR) stacked into one image for dense prediction.

Why one stacked image instead of one entry per modality: mmseg's geometric transforms (``RandomCrop``,
``RandomFlip``, ``RandomResize``, ``RandomRotate90``) then draw ONE crop / flip / scale and apply it to
every band and to the label, so the modalities can never drift apart; ``PackSegInputs``,
``SegDataPreProcessor`` (one mean/std per band) and ``EncoderDecoder`` (incl. slide inference) stay
unchanged. The split back into modalities is fixed and known: bands are stacked in the order of the
``bands`` dict (``dict(opt=4, sar=1)``: bands 0-3 optical, band 4 SAR), the order a fusion backbone
(:class:`mmrsfm.models.backbones.MultiModalRSvHeat`) reads from its own ``in_channels`` dict.
Photometric transforms act per modality through :class:`~mmrsfm.datasets.transforms.ApplyToBands`.
"""
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmrsfm.registry import TRANSFORMS
from ..file_checks import DatasetFormatError, check_same_size, image_size, read_image
from ..label_checks import IGNORE_INDEX, check_label_values
from ..raster import RasterBands, read_bands


def _georeferenced(raster: RasterBands) -> bool:
    return raster.crs is not None


def check_co_registered(first: Tuple[str, RasterBands], other: Tuple[str, RasterBands]) -> None:
    """Raise :class:`DatasetFormatError` when two rasters of one sample do not share a pixel grid.

    Sizes must match. When both files are georeferenced their CRS and geotransform must match too
    (a pair of the same size can still be shifted or on different grids); files without a CRS are
    compared by size only, since an identity transform says nothing.
    """
    (path_a, a), (path_b, b) = first, other
    if a.data.shape[:2] != b.data.shape[:2]:
        raise DatasetFormatError(
            f"'{path_a}' is {a.data.shape[0]}x{a.data.shape[1]} (HxW) but its paired file '{path_b}' is "
            f'{b.data.shape[0]}x{b.data.shape[1]}: the modalities of a sample must cover the same pixel grid. '
            f'Fix: re-extract both from the release, or resample one onto the other '
            f'(gdalwarp -te/-ts of the other file), or remove the pair.')
    if _georeferenced(a) and _georeferenced(b):
        if a.crs != b.crs:
            raise DatasetFormatError(
                f"'{path_a}' is in {a.crs} but its paired file '{path_b}' is in {b.crs}. Fix: reproject one "
                f'onto the grid of the other (gdalwarp -t_srs ... -te ... -ts ...) or re-extract both.')
        scale = max(abs(a.transform[0]), abs(a.transform[4]), 1e-12)
        if not np.allclose(a.transform, b.transform, rtol=0, atol=1e-3 * scale):
            raise DatasetFormatError(
                f"'{path_a}' has geotransform {tuple(a.transform)} but its paired file '{path_b}' has "
                f'{tuple(b.transform)}: same size, different footprint or pixel size, so the pair is not '
                f'co-registered. Fix: resample one onto the grid of the other (gdalwarp -te ... -ts ...) or '
                f're-extract both from the release.')


def read_stacked(paths: Mapping[str, str], bands: Mapping[str, int]) -> Tuple[np.ndarray, RasterBands]:
    """Read one file per modality (in ``bands`` order) and stack them as (H, W, sum(bands)), as stored.

    Returns the stack and the first modality's raster (for its CRS / transform).

    Raises:
        KeyError: ``paths`` lacks a modality of ``bands``.
        FileNotFoundError, DatasetFormatError: a file is missing / unreadable, has another band count
            than ``bands`` says, or is not co-registered with the first (:func:`check_co_registered`).
    """
    rasters: List[Tuple[str, RasterBands]] = []
    for modality, count in bands.items():
        if modality not in paths:
            raise KeyError(f'sample has no {modality!r} file (img_path has {sorted(paths)}); the loader expects '
                           f'{list(bands)}')
        path = paths[modality]
        raster = read_bands(path)
        if raster.data.shape[2] != count:
            raise DatasetFormatError(
                f"{modality} image '{path}' has {raster.data.shape[2]} band(s), expected {count}. Fix: use the "
                f'release file, or set bands=dict(..., {modality}={raster.data.shape[2]}) in the loader and '
                f'the model (in_channels) if your data really has that many.')
        if rasters:
            check_co_registered(rasters[0], (path, raster))
        rasters.append((path, raster))
    dtype = np.result_type(*[r.data.dtype for _, r in rasters])
    img = np.concatenate([r.data.astype(dtype, copy=False) for _, r in rasters], axis=2)
    return img, rasters[0][1]


def _label_size(path: str) -> Tuple[int, int]:
    """(H, W) of a label file from its header (GDAL for GeoTIFFs, which PIL may not decode)."""
    if path.lower().endswith(('.tif', '.tiff')):
        import rasterio
        from rasterio.errors import RasterioError
        try:
            with rasterio.open(path) as src:
                return src.height, src.width
        except RasterioError:
            pass  # image_size() gives the missing / unreadable file error
    return image_size(path)


@TRANSFORMS.register_module()
class LoadStackedModalities(BaseTransform):
    """Load co-registered modalities ``results['img_path'] = {modality: file}`` as one (H, W, C) image.

    Bands are stacked in the order of ``bands`` (see the module docstring). The files must have the
    stated band counts and share their pixel grid (size; CRS and geotransform when georeferenced), and a
    sample's label (``seg_map_path``) must have the same size: each is an error naming the files.

    Added keys: ``img`` (float32 unless ``to_float32=False``), ``img_shape``, ``ori_shape``,
    ``modality_bands`` (``((name, count), ...)``, the stacking order), ``crs``, ``geo_transform``.

    Args:
        bands: ``{modality: band count}`` in stacking order. Defaults to ``dict(opt=4, sar=1)``.
        to_float32: Cast to float32 (the 8-bit releases' values are kept). Defaults to True.
    """

    def __init__(self, bands: Optional[Dict[str, int]] = None, to_float32: bool = True) -> None:
        self.bands = dict(bands if bands is not None else dict(opt=4, sar=1))
        if not self.bands or any(int(c) < 1 for c in self.bands.values()):
            raise ValueError(f'LoadStackedModalities: bands must map modality names to positive band counts, '
                             f'got {bands}')
        self.to_float32 = to_float32

    def transform(self, results: dict) -> dict:
        paths = results['img_path']
        if not isinstance(paths, Mapping):
            raise TypeError(f"LoadStackedModalities needs img_path = {{modality: file}} (e.g. from "
                            f"mmrsfm.WHUOptSARDataset), got {paths!r}")
        img, first = read_stacked(paths, self.bands)
        if results.get('seg_map_path'):  # header only: a label of another size would be misaligned silently
            label = results['seg_map_path']
            check_same_size(paths[next(iter(self.bands))], img.shape[:2], label, _label_size(label))
        results['img'] = img.astype(np.float32) if self.to_float32 else img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        results['modality_bands'] = tuple((m, int(c)) for m, c in self.bands.items())
        results['crs'], results['geo_transform'] = first.crs, first.transform
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(bands={self.bands}, to_float32={self.to_float32})'


def colours_to_ids(rgb: np.ndarray, table: Mapping[int, int], path: str, dataset: str, expected: str,
                   check: bool = True) -> np.ndarray:
    """Training ids (uint8) of an RGB colour-coded label, by ``table`` ``{R * 65536 + G * 256 + B: id}``.

    Raises:
        DatasetFormatError: ``rgb`` is not (H, W, 3), or (with ``check``) holds a colour outside ``table``
            (:func:`~mmrsfm.datasets.label_checks.check_label_values`, once per ``path``); unchecked, such
            pixels are ignored (255).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise DatasetFormatError(
            f"label '{path}' has {1 if rgb.ndim == 2 else rgb.shape[2]} channel(s), expected an RGB "
            f'colour-coded label. Fix: use the release label (a class-index or grey copy loses the colours).')
    rgb = rgb.astype(np.uint32)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    if check:
        check_label_values(path, codes, table, dataset, expected)
    values, inverse = np.unique(codes, return_inverse=True)
    ids = np.array([table.get(int(v), IGNORE_INDEX) for v in values], np.uint8)
    return ids[inverse.reshape(codes.shape)]


@TRANSFORMS.register_module()
class LoadColourCodedAnnotations(BaseTransform):
    """Load an RGB colour-coded label (``seg_map_path``) as training ids, e.g. AIR-PolSAR-Seg's ``*_gt.png``.

    The colour table comes with each sample (``results['label_colours']``: ``{R * 65536 + G * 256 + B:
    training id}``, set by the dataset, e.g. :class:`mmrsfm.AIRPolSARSegDataset`), so a class subset or a
    user ``label_map`` reaches the loader without repeating it in the pipeline. Unless
    ``results['check_labels']`` is False, a colour outside the table is an error naming the file and the
    colours found (:func:`~mmrsfm.datasets.label_checks.check_label_values`, once per file); unchecked,
    such pixels are ignored (255).

    Added keys: ``gt_seg_map`` (uint8), appended to ``seg_fields``.
    """

    def transform(self, results: dict) -> dict:
        path, table = results['seg_map_path'], results.get('label_colours')
        if not table:
            raise KeyError(f"LoadColourCodedAnnotations: sample '{path}' has no label_colours table; use it with "
                           f'a dataset that sets one (mmrsfm.AIRPolSARSegDataset)')
        bgr = read_image(path)  # OpenCV order: B, G, R
        rgb = bgr[..., 2::-1] if bgr.ndim == 3 and bgr.shape[2] >= 3 else bgr
        results['gt_seg_map'] = colours_to_ids(rgb, table, path, results.get('label_dataset', 'dataset'),
                                               results.get('label_expected', 'the colours of its table'),
                                               check=results.get('check_labels', True))
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results
