"""The one raster reader of mmrsfm: every GeoTIFF (any GDAL format) is opened here, so the single-image
loader (``LoadMultiBandImage``), the bi-temporal loaders (``LoadBiTemporalImages``, change maps) and
the converters report a bad file with the same errors.

Why rasterio and not tifffile: a multispectral GeoTIFF is more than an array. rasterio (GDAL) reads
the per-band **descriptions** (band names such as ``B08`` that let us select and order bands by name
instead of trusting file order), the per-band **nodata** values, the **CRS** and geotransform, any
GDAL-readable format (COG, JP2, VRT, ``/vsizip/`` members), and it reads only the requested bands.
tifffile returns the raw array and needs hand-parsed GDAL tags for all of that.

Errors (the same text whichever loader hits them):

* ``FileNotFoundError``: ``image '<path>' does not exist``;
* :class:`~mmrsfm.datasets.file_checks.DatasetFormatError`: ``'<path>' is not a readable image
  (<GDAL's reason>). Fix: ...``, and a file naming only some of its bands, or one name twice;
* ``ValueError``: a band asked for by name that the file does not have (naming the bands it has),
  band selection by name in a file without band descriptions, ``band_names`` whose count differs
  from the file's band count, or a selection that leaves no band.
"""
import os.path as osp
import re
from dataclasses import dataclass
from numbers import Number
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from .file_checks import DatasetFormatError, missing_image, unreadable_image

#: Files :func:`read_raster` reads with rasterio; other images go through mmcv (OpenCV's colour handling).
GEOTIFF_SUFFIXES = ('.tif', '.tiff')
#: ``fill_value`` choices of :func:`read_multiband` besides a number.
FILL_MODES = ('mean', )


def canonical_band_name(name: str) -> str:
    """Normalise a band name for matching: Sentinel-2 style ``'b1'``/``'B1'``/``'B01'`` -> ``'B01'``,
    ``'b8a'``/``'B08A'`` -> ``'B8A'``; any other name is stripped and upper-cased."""
    text = name.strip().upper()
    match = re.fullmatch(r'B0*(\d{1,2})(A?)', text)
    if match is None:
        return text
    number, suffix = int(match.group(1)), match.group(2)
    return f'B{number}A' if suffix else f'B{number:02d}'


@dataclass
class RasterBands:
    """Bands read from one raster file.

    Attributes:
        data: (H, W, C) in the file's data type.
        names: Name of each band of ``data``: canonical (:func:`canonical_band_name`), or
            ``'band<i>'`` (1-based file position) for a file without band names.
        nodata: The file's nodata value of each band of ``data`` (None where it declares none).
        crs: e.g. ``'EPSG:32632'``, None when the file has no CRS.
        transform: Affine geotransform coefficients (a, b, c, d, e, f).
    """
    data: np.ndarray
    names: List[str]
    nodata: List[Optional[float]]
    crs: Optional[str]
    transform: Tuple[float, ...]


def _file_band_names(path: str, descriptions: Sequence[Optional[str]],
                     band_names: Optional[Sequence[str]]) -> Optional[List[str]]:
    """Band names of a file: its band descriptions, else ``band_names``, else None (unnamed)."""
    count = len(descriptions)
    described = [d for d in descriptions if d]
    if described and len(described) != count:
        raise DatasetFormatError(
            f"'{path}' names only {len(described)} of its {count} bands ({list(descriptions)}). Fix: describe "
            f'every band (gdal_edit.py -mo / rasterio set_band_description), or none and pass band_names.')
    names = list(descriptions) if described else (None if band_names is None else list(band_names))
    if names is None:
        return None
    if len(names) != count:
        raise ValueError(f"'{path}' has {count} bands but band_names gives {len(names)} names "
                         f'({list(names)}). Fix: give one name per band of the file, in file order.')
    canonical = [canonical_band_name(n) for n in names]
    if len(set(canonical)) != count:
        raise DatasetFormatError(f"'{path}': duplicate band names {names}. Fix: give every band its own name.")
    return canonical


def _select(path: str, shown: List[str], named: bool, bands: Optional[Sequence[str]],
            drop_bands: Sequence[str]) -> List[str]:
    """Names of the bands to read, in output order (see :func:`read_bands`)."""
    if (bands is not None or drop_bands) and not named:
        raise ValueError(f"'{path}' has no band descriptions, so bands cannot be selected by name. Fix: "
                         f'pass band_names=[...] (one name per band of the file, in file order).')
    if bands is None:
        drop = {canonical_band_name(b) for b in drop_bands}
        wanted = [n for n in shown if n not in drop]
    else:
        wanted = [canonical_band_name(b) for b in bands]
        missing = [b for b, w in zip(bands, wanted) if w not in shown]
        if missing:
            raise ValueError(f"'{path}' has no band(s) {missing}; its bands are {shown}. Fix: choose "
                             f'bands from those, or correct band_names if the file is not described.')
    if not wanted:
        raise ValueError(f"no band of '{path}' left to load (bands={bands}, drop_bands={list(drop_bands)})")
    return wanted


def read_bands(path: str,
               bands: Optional[Sequence[str]] = None,
               band_names: Optional[Sequence[str]] = None,
               drop_bands: Sequence[str] = ()) -> RasterBands:
    """Read bands of a raster by name, as stored (no type conversion, no nodata handling).

    Args:
        path: Any GDAL-readable file, or a GDAL virtual path (``/vsizip/...``).
        bands: Band names to read, in this order. Defaults to None (all, file order).
        band_names: Names of the file's bands in file order, for files without band descriptions
            (the descriptions win when the file has them). Defaults to None.
        drop_bands: Band names to leave out when ``bands`` is None. Defaults to ().

    Raises:
        FileNotFoundError, DatasetFormatError, ValueError: see the module docstring.
    """
    import rasterio  # imported here: only raster datasets need it
    from rasterio.errors import RasterioError
    if not path.startswith('/vsi') and not osp.isfile(path):  # GDAL virtual files exist only for GDAL
        raise missing_image(path)
    try:
        with rasterio.open(path) as src:
            names = _file_band_names(path, src.descriptions, band_names)
            shown = names or [f'band{i + 1}' for i in range(src.count)]
            wanted = _select(path, shown, names is not None, bands, drop_bands)
            indexes = [shown.index(n) + 1 for n in wanted]  # rasterio bands are 1-based
            data = src.read(indexes)  # (C, H, W); only the requested bands are read
            nodata = [src.nodatavals[i - 1] for i in indexes]
            crs = None if src.crs is None else src.crs.to_string()
            transform = tuple(src.transform)[:6]
    except RasterioError as e:  # opening and decoding: a truncated file can fail in either
        raise unreadable_image(path, f'GDAL: {e}') from e
    return RasterBands(np.ascontiguousarray(data.transpose(1, 2, 0)), wanted, nodata, crs, transform)


def check_fill_value(fill_value: Union[float, str]) -> None:
    """Raise unless ``fill_value`` is a number or one of :data:`FILL_MODES`."""
    if not isinstance(fill_value, Number) and fill_value not in FILL_MODES:
        raise ValueError(f"fill_value must be a number or one of {FILL_MODES}, got {fill_value!r}")


def read_multiband(path: str,
                   bands: Optional[Sequence[str]] = None,
                   band_names: Optional[Sequence[str]] = None,
                   drop_bands: Sequence[str] = (),
                   nodata: Optional[float] = None,
                   fill_value: Union[float, str] = 0.0) -> Tuple[np.ndarray, np.ndarray, List[str], dict]:
    """:func:`read_bands` as float32 with missing pixels filled; see ``mmrsfm.LoadMultiBandImage``.

    A band's pixel is missing when it is NaN or equals the band's nodata value (``nodata`` when
    given, else the file's). It is replaced by ``fill_value``: a number, or ``'mean'`` for the mean
    of that band's valid pixels.

    Returns:
        ``(img, valid, names, geo)``: the float32 (H, W, C) image, the (H, W) bool mask of pixels
        valid in every band, the output band names and ``dict(crs=..., transform=...)``.
    """
    raster = read_bands(path, bands, band_names, drop_bands)
    data = raster.data.astype(np.float32)
    invalid = np.isnan(data)
    for c, value in enumerate(raster.nodata if nodata is None else [nodata] * data.shape[2]):
        if value is not None and not np.isnan(value):
            invalid[..., c] |= data[..., c] == np.float32(value)
    if invalid.any():
        if fill_value == 'mean':  # per-band mean of the valid pixels keeps min-max / z-score ranges honest
            counts = (~invalid).sum(axis=(0, 1))
            sums = np.where(invalid, 0, data).sum(axis=(0, 1), dtype=np.float64)
            fill = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0).astype(np.float32)
        else:
            fill = np.full(data.shape[2], fill_value, np.float32)
        data = np.where(invalid, fill, data)
    return data, ~invalid.any(axis=2), raster.names, dict(crs=raster.crs, transform=raster.transform)


def read_raster(path: str, color_type: str = 'unchanged', backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a whole image as (H, W, C): GeoTIFFs with :func:`read_bands` (all bands, file order, as
    stored), other images with mmcv (so ``color_type`` gives mmseg's BGR loading).

    Args:
        path: Image file.
        color_type: mmcv ``flag`` for non-GeoTIFF files (``'color'`` gives 3 bands in BGR order).
            Defaults to ``'unchanged'``.
        backend_args: mmengine file backend arguments (non-GeoTIFF files). Defaults to None.

    Raises:
        FileNotFoundError, DatasetFormatError: see the module docstring.
    """
    if path.lower().endswith(GEOTIFF_SUFFIXES):
        return read_bands(path).data
    import mmcv  # imported here: the converters use this module without mmcv's image stack
    import mmengine.fileio as fileio
    if '://' not in path and backend_args is None and not osp.isfile(path):  # local file: same error as above
        raise missing_image(path)
    img = mmcv.imfrombytes(fileio.get(path, backend_args=backend_args), flag=color_type, backend='cv2')
    if img is None or img.size == 0:
        raise unreadable_image(path, 'OpenCV cannot decode it: corrupt or truncated')
    return img[..., None] if img.ndim == 2 else img
