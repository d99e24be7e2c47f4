"""Multi-band (multispectral) image loading and band-count-safe wrappers for geometric transforms.

Files are read by :func:`mmrsfm.datasets.raster.read_multiband` (rasterio: band names, nodata, CRS),
the reader the bi-temporal loaders share, so a bad file gives the same error from either.

mmcv / mmseg geometric transforms and N bands (measured with OpenCV 5.0, float32 images):

* ``RandomFlip``, ``RandomCrop``, :class:`~mmrsfm.datasets.transforms.bitemporal.RandomRotate90`:
  numpy slicing, any band count.
* ``Resize`` / ``RandomResize``: ``cv2.resize`` handles up to 128 channels (OpenCV 5; 512 in OpenCV 4)
  for nearest / bilinear / bicubic / lanczos, but ``interpolation='area'`` fails above 4 channels, and
  every mode fails above the channel limit (hyperspectral cubes).
* ``RandomRotate`` (``cv2.warpAffine``): fails above the channel limit, and a non-zero ``pad_val`` fills
  only the *first* channel (mmcv passes a scalar; OpenCV reads it as (v, 0, 0, 0)), even for RGB.
* ``Pad`` (``cv2.copyMakeBorder``): a non-zero scalar ``pad_val`` fails above 4 channels.

:class:`BandChunks` runs any of them band by band (or on small groups) with identical random draws
and re-stacks the result, which makes all of the above exact for any band count.
"""
import copy
import random
from importlib.util import find_spec
from typing import Callable, List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, Compose

from mmrsfm.registry import TRANSFORMS
from ..raster import check_fill_value, read_multiband


@TRANSFORMS.register_module()
class LoadMultiBandImage(BaseTransform):
    """Load a multi-band raster (GeoTIFF, COG, ...) as float32 ``results['img']`` (H, W, C), bands by name.

    Band names come from the file's band descriptions; files without any (e.g. SegMunich) are named
    by ``band_names``. Sentinel-2 names are matched loosely (``B1`` = ``B01``, ``b8a`` = ``B8A``; see
    :func:`mmrsfm.datasets.raster.canonical_band_name`). ``bands`` selects and orders the output;
    ``drop_bands`` instead keeps every other band in file order (e.g. ``drop_bands=('B10', )`` for
    SpectralGPT's 12 bands). Read errors: see :mod:`mmrsfm.datasets.raster`.

    Nodata: a band's pixel is missing when it equals the band's nodata value (the file's per-band
    nodata, or ``nodata`` when given, which overrides it) or is NaN. Missing pixels are replaced by
    ``fill_value``: a number, or ``'mean'`` for the mean of that band's valid pixels (so a -9999
    nodata value or a zero fill cannot dominate per-image min-max normalisation). With
    ``with_valid_mask=True`` the (H, W) bool ``results['valid_mask']`` (valid in every band) is
    added; :class:`IgnoreNoDataLabels` right after ``LoadAnnotations`` turns it into ignored labels.

    Added keys: ``img`` (float32 H x W x C), ``img_shape``, ``ori_shape``, ``band_names`` (output band
    names), ``crs`` (e.g. ``'EPSG:32632'`` or None), ``geo_transform`` (affine a, b, c, d, e, f), and
    ``valid_mask`` if asked.

    Args:
        bands: Band names to output, in this order. Defaults to None (all, file order).
        band_names: Names of the file's bands in file order, for files without band descriptions.
            Defaults to None.
        drop_bands: Band names to leave out when ``bands`` is None. Defaults to ().
        nodata: Value marking missing pixels in every band, overriding the file's. Defaults to None
            (the file's per-band nodata).
        fill_value: Value for missing pixels, or ``'mean'``. Defaults to 0.
        with_valid_mask: Add ``results['valid_mask']``. Defaults to False.
        modality: Key of the file when ``img_path`` is a ``{modality: path}`` dict (samples of
            ``MultiModalImageFolder``); a one-entry dict needs none. Defaults to None.
    """

    def __init__(self,
                 bands: Optional[Sequence[str]] = None,
                 band_names: Optional[Sequence[str]] = None,
                 drop_bands: Sequence[str] = (),
                 nodata: Optional[float] = None,
                 fill_value: Union[float, str] = 0.0,
                 with_valid_mask: bool = False,
                 modality: Optional[str] = None) -> None:
        if bands is not None and drop_bands:
            raise ValueError('give either bands (selection and order) or drop_bands, not both')
        check_fill_value(fill_value)
        self.bands = None if bands is None else tuple(bands)
        self.band_names = None if band_names is None else tuple(band_names)
        self.drop_bands = tuple(drop_bands)
        self.nodata, self.fill_value, self.with_valid_mask = nodata, fill_value, with_valid_mask
        self.modality = modality

    def _read(self, path: str) -> Tuple[np.ndarray, np.ndarray, List[str], dict]:
        return read_multiband(path, self.bands, self.band_names, self.drop_bands, self.nodata, self.fill_value)

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        if isinstance(path, dict):  # MultiModalImageFolder samples: {modality: path}
            if self.modality is None and len(path) != 1:
                raise ValueError(f'img_path has modalities {sorted(path)}; set LoadMultiBandImage(modality=...)')
            path = path[self.modality] if self.modality is not None else next(iter(path.values()))
        if not isinstance(path, str):
            raise ValueError(f'LoadMultiBandImage reads one file per sample, got img_path={path!r}; use '
                             f'mmrsfm.LoadBiTemporalMultiBandImages for change-detection pairs')
        img, valid, names, geo = self._read(path)
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        results['band_names'] = names
        results['crs'], results['geo_transform'] = geo['crs'], geo['transform']
        if self.with_valid_mask:
            results['valid_mask'] = valid
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(bands={self.bands}, band_names={self.band_names}, '
                f'drop_bands={self.drop_bands}, nodata={self.nodata}, fill_value={self.fill_value!r}, '
                f'with_valid_mask={self.with_valid_mask})')


@TRANSFORMS.register_module()
class IgnoreNoDataLabels(BaseTransform):
    """Set ``gt_seg_map`` to ``ignore_index`` where ``results['valid_mask']`` is False, then drop the mask.

    Place it right after ``LoadAnnotations`` (before geometric transforms, which do not all move
    extra maps), with ``LoadMultiBandImage(with_valid_mask=True)``.

    Args:
        ignore_index: Label of missing pixels. Defaults to 255.
    """

    def __init__(self, ignore_index: int = 255) -> None:
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        if 'valid_mask' not in results:
            raise KeyError('IgnoreNoDataLabels needs results["valid_mask"]: load the image with '
                           'mmrsfm.LoadMultiBandImage(with_valid_mask=True)')
        valid = results.pop('valid_mask')
        label = results['gt_seg_map']
        if label.shape != valid.shape:
            raise ValueError(f'valid_mask {valid.shape} and gt_seg_map {label.shape} differ: put '
                             f'IgnoreNoDataLabels before any geometric transform')
        results['gt_seg_map'] = np.where(valid, label, self.ignore_index).astype(label.dtype)
        return results


@TRANSFORMS.register_module()
class PadBands(BaseTransform):
    """Append bands until the image has ``num_bands`` (e.g. a 10-band dataset for a 12-band model).

    ``mode='mean'`` appends the per-pixel mean of the existing bands (the official SpectralGPT
    SegMunich loader pads 10 bands to 12 this way); ``'constant'`` appends ``value``. Images that
    already have ``num_bands`` pass unchanged; more bands is an error.

    Args:
        num_bands: Band count after padding.
        mode: ``'mean'`` or ``'constant'``. Defaults to ``'mean'``.
        value: Fill for ``'constant'``. Defaults to 0.
    """

    def __init__(self, num_bands: int, mode: str = 'mean', value: float = 0.0) -> None:
        if mode not in ('mean', 'constant'):
            raise ValueError(f"PadBands mode must be 'mean' or 'constant', got {mode!r}")
        self.num_bands, self.mode, self.value = num_bands, mode, value

    def transform(self, results: dict) -> dict:
        img = results['img']
        extra = self.num_bands - img.shape[2]
        if extra < 0:
            raise ValueError(f'PadBands(num_bands={self.num_bands}) got {img.shape[2]} bands from '
                             f'{results.get("img_path")}. Fix: select bands when loading (bands=...)')
        if extra:
            if self.mode == 'mean':
                pad = np.repeat(img.mean(axis=2, keepdims=True, dtype=np.float32), extra, axis=2)
            else:
                pad = np.full(img.shape[:2] + (extra, ), self.value, np.float32)
            results['img'] = np.concatenate([img, pad.astype(img.dtype)], axis=2)
            if 'band_names' in results:
                results['band_names'] = list(results['band_names']) + [f'pad_{self.mode}'] * extra
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_bands={self.num_bands}, mode={self.mode!r}, value={self.value})'


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """Crop a random area share and aspect ratio of the image, resize it to ``size``; any band count.

    The torchvision / MAE recipe that SpectralGPT pretrains with (``scale=(0.2, 1)``): up to 10 draws
    of an area share in ``scale`` and a log-uniform aspect ratio in ``ratio``; the first crop that
    fits is used, else the largest centred crop within ``ratio``. Maps in ``seg_fields`` are cropped
    alike and resized with nearest neighbours. Resizing goes through ``mmcv.imresize`` band group by
    band group (OpenCV's channel limit), so hyperspectral cubes work too.

    Args:
        size: Output (H, W) or side.
        scale: Range of the crop's share of the image area. Defaults to (0.08, 1.0).
        ratio: Range of the crop's width / height. Defaults to (3 / 4, 4 / 3).
        interpolation: mmcv interpolation of the image. Defaults to 'bicubic'.
    """

    def __init__(self, size: Union[int, Sequence[int]], scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3. / 4., 4. / 3.), interpolation: str = 'bicubic') -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        if not (0 < scale[0] <= scale[1] <= 1 and 0 < ratio[0] <= ratio[1]):
            raise ValueError(f'need 0 < scale[0] <= scale[1] <= 1 and 0 < ratio[0] <= ratio[1], got {scale}, {ratio}')
        self.scale, self.ratio, self.interpolation = tuple(scale), tuple(ratio), interpolation

    def crop_box(self, height: int, width: int) -> Tuple[int, int, int, int]:
        """(top, left, h, w) of a random crop, as described in the class docstring."""
        area = height * width
        log_ratio = np.log(self.ratio)
        for _ in range(10):
            target = area * np.random.uniform(*self.scale)
            aspect = float(np.exp(np.random.uniform(*log_ratio)))
            w, h = int(round(np.sqrt(target * aspect))), int(round(np.sqrt(target / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return int(np.random.randint(0, height - h + 1)), int(np.random.randint(0, width - w + 1)), h, w
        aspect = width / height  # fallback: the largest centred crop with an allowed aspect ratio
        if aspect < self.ratio[0]:
            w, h = width, int(round(width / self.ratio[0]))
        elif aspect > self.ratio[1]:
            w, h = int(round(height * self.ratio[1])), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    @staticmethod
    def _resize(img: np.ndarray, size: Tuple[int, int], interpolation: str) -> np.ndarray:
        img3 = img.reshape(img.shape[:2] + (-1, ))
        step = 4 if interpolation == 'area' else 128  # OpenCV limits, see the module docstring
        parts = [mmcv.imresize(np.ascontiguousarray(img3[..., i:i + step]), size[::-1], interpolation=interpolation)
                 for i in range(0, img3.shape[2], step)]
        out = np.concatenate([p.reshape(p.shape[:2] + (-1, )) for p in parts], axis=2)
        return out if img.ndim == 3 else out[..., 0]

    def transform(self, results: dict) -> dict:
        img = results['img']
        top, left, h, w = self.crop_box(*img.shape[:2])
        results['img'] = self._resize(img[top:top + h, left:left + w], self.size, self.interpolation)
        for key in results.get('seg_fields', []):
            results[key] = self._resize(results[key][top:top + h, left:left + w], self.size, 'nearest')
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, scale={self.scale}, ratio={self.ratio}, '
                f'interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class BandChunks(BaseTransform):
    """Run ``transforms`` on groups of at most ``bands_per_chunk`` bands and re-stack them.

    Every group sees the same random draws (numpy's and Python's random states are replayed), so
    a random crop, flip, rotation or scale is identical for all bands; labels and meta keys come
    from the first group's run. Use it around OpenCV-backed transforms that are wrong or fail for
    many bands (see the module docstring), e.g.
    ``dict(type='mmrsfm.BandChunks', transforms=[dict(type='RandomRotate', prob=1., degree=30, pad_val=1)])``.

    Args:
        transforms: Transform configs (or callables).
        bands_per_chunk: Bands per group. 1 is exact for every OpenCV operation (scalar fill values
            reach only the first channel of a group); up to 4 is enough for ``interpolation='area'``
            and up to 128 (OpenCV 5) for the other interpolations. Defaults to 1.
    """

    def __init__(self, transforms: Sequence[Union[dict, Callable]], bands_per_chunk: int = 1) -> None:
        if bands_per_chunk < 1:
            raise ValueError(f'bands_per_chunk must be >= 1, got {bands_per_chunk}')
        self.pipeline = Compose(list(transforms))
        self.bands_per_chunk = bands_per_chunk

    def transform(self, results: dict) -> Optional[dict]:
        img = results['img']
        squeeze = img.ndim == 2
        img = img[..., None] if squeeze else img
        np_state, py_state = np.random.get_state(), random.getstate()
        first, chunks = None, []
        for start in range(0, img.shape[2], self.bands_per_chunk):
            np.random.set_state(np_state)
            random.setstate(py_state)
            part = copy.copy(results)  # shallow: transforms replace (not mutate) the arrays they change
            part['seg_fields'] = list(results.get('seg_fields', []))
            part['img'] = np.ascontiguousarray(img[..., start:start + self.bands_per_chunk])
            out = self.pipeline(part)
            if out is None:  # a transform rejected the sample (identically for every chunk)
                return None
            first = out if first is None else first
            chunks.append(out['img'].reshape(out['img'].shape[:2] + (-1, )))
        first['img'] = chunks[0][..., 0] if squeeze else np.concatenate(chunks, axis=2)
        return first

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.pipeline}, bands_per_chunk={self.bands_per_chunk})'


@TRANSFORMS.register_module()
class ApplyToBands(BaseTransform):
    """Run ``transforms`` on some bands of the image only; the other bands pass unchanged.

    For transforms made for 3-band colour images that would drop or corrupt the other bands, e.g.
    mmseg's ``PhotoMetricDistortion`` (its hue/saturation step converts through HSV and returns 3 bands,
    so a 4-band B, G, R, IR image silently loses its IR band). The 4-band Potsdam configs use
    ``dict(type='mmrsfm.ApplyToBands', bands=(0, 1, 2), transforms=[dict(type='PhotoMetricDistortion')])``.
    The wrapped transforms must keep the image size and the number of bands they get.

    Args:
        transforms: Transform configs (or callables).
        bands: Indices (0-based, in ``results['img']``'s band order) of the bands they get, in this
            order. Defaults to (0, 1, 2).
    """

    def __init__(self, transforms: Sequence[Union[dict, Callable]], bands: Sequence[int] = (0, 1, 2)) -> None:
        self.bands = tuple(int(b) for b in bands)
        if not self.bands or len(set(self.bands)) != len(self.bands) or min(self.bands) < 0:
            raise ValueError(f'ApplyToBands: bands must be distinct non-negative indices, got {bands}')
        self.pipeline = Compose(list(transforms))

    def transform(self, results: dict) -> Optional[dict]:
        img = results['img']
        count = 1 if img.ndim == 2 else img.shape[2]
        if max(self.bands) >= count:
            raise ValueError(f'ApplyToBands(bands={self.bands}) got a {count}-band image from '
                             f"{results.get('img_path')}; choose band indices below {count}")
        bands = list(self.bands)
        part = np.ascontiguousarray(img[..., bands])
        out = self.pipeline({**results, 'img': part})  # a shallow copy: only the image comes back
        if out is None:
            return None
        new = out['img']
        if new.shape[:2] != img.shape[:2] or (new.shape[2] if new.ndim == 3 else 1) != len(bands):
            raise ValueError(f'ApplyToBands({self.pipeline}) must keep the {len(bands)} bands at '
                             f'{img.shape[:2]}, got {new.shape}: geometric transforms go outside ApplyToBands')
        merged = img.astype(np.result_type(img.dtype, new.dtype), copy=True)
        merged[..., bands] = new.reshape(new.shape[:2] + (len(bands), ))
        results['img'] = merged
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.pipeline}, bands={self.bands})'


@TRANSFORMS.register_module()
class SigmaRangeScale(BaseTransform):
    """Map each band from ``[mean - k std, mean + k std]`` to [0, 1], clipping outside values.

    SpectralGPT's BigEarthNet input normalisation (``SentinelNormalize`` in ``util/datasets.py`` of the
    official repo, after SeCo's BigEarthNet loader), k = 2: the official code scales to [0, 255], clips,
    casts to uint8 (truncating) and ``ToTensor`` divides by 255; ``quantize=True`` (default) keeps that
    8-bit step, so inputs equal the official ones. The data preprocessor then needs no normalisation
    (mean 0, std 1).

    Args:
        mean: Per-band means, in the image's band order.
        std: Per-band standard deviations.
        sigmas: k. Defaults to 2.0.
        quantize: Truncate to 256 levels as the official uint8 cast. Defaults to True.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], sigmas: float = 2.0,
                 quantize: bool = True) -> None:
        if len(mean) != len(std) or not len(mean):
            raise ValueError(f'SigmaRangeScale: mean and std need one value per band, got {len(mean)} and {len(std)}')
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        if (self.std <= 0).any():
            raise ValueError(f'SigmaRangeScale: std must be positive, got {list(std)}')
        self.sigmas, self.quantize = float(sigmas), quantize

    def transform(self, results: dict) -> dict:
        img = results['img']
        count = 1 if img.ndim == 2 else img.shape[2]
        if count != len(self.mean):
            raise ValueError(f"SigmaRangeScale has statistics of {len(self.mean)} bands but {results.get('img_path')} "
                             f'gave {count}; give one mean/std per band of the loaded image, in its band order')
        low = self.mean - self.sigmas * self.std
        scaled = np.clip((img - low) / (2 * self.sigmas * self.std) * 255.0, 0, 255)
        if self.quantize:
            scaled = np.floor(scaled)  # the official uint8 cast truncates
        results['img'] = (scaled / 255.0).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(bands={len(self.mean)}, sigmas={self.sigmas}, quantize={self.quantize})'


# The bi-temporal variant extends LoadBiTemporalImages, which packs mmseg data samples (optional dependency).
if find_spec('mmseg') is not None:
    from .bitemporal import LoadBiTemporalImages

    @TRANSFORMS.register_module()
    class LoadBiTemporalMultiBandImages(LoadBiTemporalImages):
        """:class:`~mmrsfm.datasets.transforms.bitemporal.LoadBiTemporalImages` whose single-file dates
        are read by name like :class:`LoadMultiBandImage` (bands, band_names, drop_bands, nodata,
        fill_value); per-band-file dates (OSCD) are stacked as before. Output is float32 (H, W, 2C);
        ``valid_mask`` (if asked) is valid in both dates.

        Args:
            backend_args: mmengine file backend arguments (per-band-file dates). Defaults to None.
            **band_options: ``bands``, ``band_names``, ``drop_bands``, ``nodata``, ``fill_value``,
                ``with_valid_mask`` of :class:`LoadMultiBandImage`.
        """

        def __init__(self, backend_args: Optional[dict] = None, **band_options) -> None:
            super().__init__(to_float32=True, color_type='unchanged', backend_args=backend_args)
            self.loader = LoadMultiBandImage(**band_options)
            self._valid: List[np.ndarray] = []

        def _read_date(self, date) -> np.ndarray:
            if not isinstance(date, str):
                return super()._read_date(date)
            img, valid, _, _ = self.loader._read(date)
            self._valid.append(valid)
            return img

        def transform(self, results: dict) -> dict:
            self._valid = []
            results = super().transform(results)
            if self.loader.with_valid_mask:
                shape = results['img'].shape[:2]
                results['valid_mask'] = np.logical_and.reduce(self._valid + [np.ones(shape, bool)])
            return results

        def __repr__(self) -> str:
            return f'{type(self).__name__}({self.loader!r})'

