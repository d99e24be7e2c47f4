"""Streaming raster I/O for whole-scene inference: windowed reads, block writes, COG output, resume state.

Nothing here holds a scene or an output map in memory:

* :class:`SceneReader` reads one window at a time (rasterio), with pixels outside the scene and
  nodata pixels reported as invalid; ``align_to`` reads through a ``WarpedVRT`` onto another grid.
* :class:`BlockRasterWriter` writes output blocks with ``os.pwrite`` into a raw band-sequential file
  at fixed offsets (a block written twice is simply overwritten, and a killed process leaves nothing
  half-indexed: what is committed in the :class:`ResumeState` is on disk). ``finalize`` turns it into
  a tiled, DEFLATE-compressed Cloud-Optimized GeoTIFF through GDAL's COG driver (reading through a
  raw VRT, so GDAL streams it with its bounded block cache) and moves it into place with
  ``os.replace``: a file with the final name is always complete.

Why raw + ``pwrite`` instead of updating a compressed GeoTIFF in place: a GeoTIFF's tile index is
written when the dataset is closed, so a process killed mid-run leaves a file whose index and data
disagree; and a memory map would count the written pages in the process's resident memory (RSS), which
would then grow with the scene.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmrsfm.datasets.raster import _file_band_names, _select

#: GDAL block cache for every read and write of a scene run (bytes): bounds the memory GDAL may use.
GDAL_CACHE_BYTES = 64 * 1024 * 1024
#: Image formats without georeferencing that we accept (outputs are then in pixel coordinates).
PIXEL_ONLY_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp')


def gdal_env(**extra):
    """``rasterio.Env`` with a bounded block cache and quiet "not georeferenced" handling."""
    import rasterio
    return rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES, GDAL_VRT_ENABLE_RAWRASTERBAND='YES', **extra)


def describe_grid(path: str, crs, transform, shape) -> str:
    crs_text = 'no CRS' if crs is None else (crs.to_string() or 'custom CRS')
    return (f"'{path}' ({crs_text}, {shape[1]}x{shape[0]} px, transform "
            f"({', '.join(f'{v:g}' for v in tuple(transform)[:6])}))")


class GridMismatchError(ValueError):
    """The two scenes of a change-detection pair are not on the same pixel grid."""


class SceneReader:
    """Windowed, band-selected reads of one raster (open it inside :func:`gdal_env`).

    Args:
        path: Anything rasterio opens (GeoTIFF, COG, VRT, JP2, PNG/JPEG, ``/vsi...`` paths).
        bands: Band names to read, in this order (as ``mmrsfm.LoadMultiBandImage``). None: all bands.
        band_names: Names of the file's bands for files without band descriptions.
        drop_bands: Band names left out when ``bands`` is None.
        nodata: Nodata value of every band, overriding the file's.
        fill_value: Value given to invalid pixels (nodata, NaN, outside the scene).
        align_to: ``(crs, transform, (height, width))`` of another scene: read this one warped
            (bilinear) onto that grid.
        reverse_rgb: Return the 3 bands in reverse order (the BGR order of mmcv-decoded training images).
    """

    def __init__(self, path: str, bands: Optional[Sequence[str]] = None,
                 band_names: Optional[Sequence[str]] = None, drop_bands: Sequence[str] = (),
                 nodata: Optional[float] = None, fill_value: float = 0.0,
                 align_to: Optional[Tuple] = None, reverse_rgb: bool = False) -> None:
        import rasterio
        from rasterio.errors import RasterioError

        from mmrsfm.datasets.file_checks import missing_image, unreadable_image
        if not path.startswith('/vsi') and not osp.isfile(path):
            raise missing_image(path)
        self.path = path
        try:
            self._src = rasterio.open(path)
        except RasterioError as e:
            raise unreadable_image(path, f'GDAL: {e}') from e
        src = self._src
        names = _file_band_names(path, src.descriptions, band_names)
        shown = names or [f'band{i + 1}' for i in range(src.count)]
        self.band_names = _select(path, shown, names is not None, bands, drop_bands)
        self.indexes = [shown.index(n) + 1 for n in self.band_names]
        if reverse_rgb and len(self.indexes) == 3:
            self.indexes = self.indexes[::-1]
        self.nodata = [nodata if nodata is not None else src.nodatavals[i - 1] for i in self.indexes]
        self.fill_value = float(fill_value)
        self.crs, self.transform = src.crs, src.transform
        self.georeferenced = src.crs is not None and not src.transform.is_identity
        self.height, self.width = src.height, src.width
        self.dataset = src
        if align_to is not None:
            from rasterio.enums import Resampling
            from rasterio.vrt import WarpedVRT
            crs, transform, (height, width) = align_to
            nodata_src = next((v for v in self.nodata if v is not None), None)
            self.dataset = WarpedVRT(src, crs=crs, transform=transform, width=width, height=height,
                                     resampling=Resampling.bilinear, src_nodata=nodata_src,
                                     nodata=nodata_src if nodata_src is not None else 0,
                                     add_alpha=nodata_src is None)
            self._alpha = nodata_src is None
            self.crs, self.transform, self.height, self.width = crs, transform, height, width
        else:
            self._alpha = False

    @property
    def count(self) -> int:
        return len(self.indexes)

    def grid(self) -> Tuple:
        return self.crs, self.transform, (self.height, self.width)

    def read(self, row: int, col: int, height: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
        """The ``(C, height, width)`` float32 window at (row, col) and its ``(height, width)`` valid mask.

        The window may reach outside the scene: those pixels are invalid. Invalid pixels (there, and
        where any band is nodata or NaN) hold ``fill_value``.
        """
        from rasterio.windows import Window
        data = np.full((self.count, height, width), self.fill_value, np.float32)
        valid = np.zeros((height, width), bool)
        r0, c0 = max(row, 0), max(col, 0)
        r1, c1 = min(row + height, self.height), min(col + width, self.width)
        if r1 <= r0 or c1 <= c0:
            return data, valid
        window = Window(c0, r0, c1 - c0, r1 - r0)
        raw = self.dataset.read(self.indexes, window=window).astype(np.float32, copy=False)
        ok = ~np.isnan(raw).any(axis=0)
        for c, value in enumerate(self.nodata):
            if value is not None and not np.isnan(value):
                ok &= raw[c] != np.float32(value)
        if self._alpha:  # warped without a nodata value: the alpha band marks pixels outside the source
            ok &= self.dataset.read(self.dataset.count, window=window) > 0
        sub = (slice(None), slice(r0 - row, r1 - row), slice(c0 - col, c1 - col))
        data[sub] = np.where(ok, raw, np.float32(self.fill_value))
        valid[sub[1:]] = ok
        return data, valid

    def close(self) -> None:
        if self.dataset is not self._src:
            self.dataset.close()
        self._src.close()


def check_same_grid(a: SceneReader, b: SceneReader) -> None:
    """Raise :class:`GridMismatchError` naming both scenes unless they share CRS, transform and shape."""
    problems = []
    if (a.crs is None) != (b.crs is None) or (a.crs is not None and a.crs != b.crs):
        problems.append('CRS')
    if not a.transform.almost_equals(b.transform, precision=1e-9 * max(1.0, abs(a.transform.a))):
        problems.append('transform')
    if (a.height, a.width) != (b.height, b.width):
        problems.append('shape')
    if problems:
        raise GridMismatchError(
            f"change detection needs both dates on one pixel grid, but they differ in {' and '.join(problems)}: "
            f'A = {describe_grid(a.path, a.crs, a.transform, (a.height, a.width))}, '
            f'B = {describe_grid(b.path, b.crs, b.transform, (b.height, b.width))}. Fix: pass --align '
            f'(align=True) to warp B onto A\'s grid, or resample B first (gdalwarp).')
    if a.count != b.count:
        raise GridMismatchError(f"date A '{a.path}' gives {a.count} bands but date B '{b.path}' gives {b.count}. "
                                f'Fix: give both dates the same bands.')


class BlockRasterWriter:
    """A ``(bands, height, width)`` raster written block by block into a raw file, then made a COG.

    Args:
        path: Final GeoTIFF path; the raw data lives in ``{path}.partial`` until :meth:`finalize`.
        bands: Band count.
        height, width: Raster size.
        dtype: numpy dtype of the pixels.
        resume: Keep an existing partial file (its blocks are reused) instead of starting empty.
    """

    def __init__(self, path: str, bands: int, height: int, width: int, dtype=np.uint8,
                 resume: bool = False) -> None:
        self.path, self.bands, self.height, self.width = path, bands, height, width
        self.dtype = np.dtype(dtype)
        self.raw_path = path + '.partial'
        size = bands * height * width * self.dtype.itemsize
        if not resume and osp.exists(self.raw_path):
            os.remove(self.raw_path)
        self._fd = os.open(self.raw_path, os.O_RDWR | os.O_CREAT, 0o644)
        if os.fstat(self._fd).st_size != size:
            os.ftruncate(self._fd, size)  # sparse: unwritten blocks take no disk space

    def write(self, block: np.ndarray, row: int, col: int) -> None:
        """Write a ``(bands, h, w)`` block with its top-left pixel at (row, col)."""
        block = np.ascontiguousarray(block, dtype=self.dtype)
        _, h, w = block.shape
        item = self.dtype.itemsize
        for b in range(self.bands):
            base = b * self.height * self.width
            for r in range(h):
                os.pwrite(self._fd, block[b, r].tobytes(), (base + (row + r) * self.width + col) * item)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _vrt(self, crs, transform, nodata) -> str:
        gdal_type = {np.dtype(np.uint8): 'Byte', np.dtype(np.float32): 'Float32',
                     np.dtype(np.uint16): 'UInt16'}[self.dtype]
        item = self.dtype.itemsize
        lines = [f'<VRTDataset rasterXSize="{self.width}" rasterYSize="{self.height}">']
        if crs is not None:
            lines.append(f'  <SRS>{_xml_escape(crs.to_wkt())}</SRS>')
        t = transform
        lines.append(f'  <GeoTransform>{t.c!r}, {t.a!r}, {t.b!r}, {t.f!r}, {t.d!r}, {t.e!r}</GeoTransform>')
        for b in range(self.bands):
            lines += [f'  <VRTRasterBand dataType="{gdal_type}" band="{b + 1}" subClass="VRTRawRasterBand">',
                      *([f'    <NoDataValue>{nodata}</NoDataValue>'] if nodata is not None else []),
                      f'    <SourceFilename relativetoVRT="1">{osp.basename(self.raw_path)}</SourceFilename>',
                      f'    <ImageOffset>{b * self.height * self.width * item}</ImageOffset>',
                      f'    <PixelOffset>{item}</PixelOffset>', f'    <LineOffset>{self.width * item}</LineOffset>',
                      '  </VRTRasterBand>']
        lines.append('</VRTDataset>')
        return '\n'.join(lines)

    def finalize(self, crs, transform, nodata=None, colormap: Optional[Dict[int, tuple]] = None,
                 descriptions: Optional[Sequence[str]] = None, scales: Optional[Sequence[float]] = None,
                 tags: Optional[dict] = None, resampling: str = 'NEAREST') -> str:
        """Write the Cloud-Optimized GeoTIFF (DEFLATE, 512 px tiles, overviews) at ``path``; returns it.

        The COG is written under a temporary name and moved into place, then the raw file is removed.
        """
        import rasterio
        from rasterio.shutil import copy as gdal_copy
        self.close()
        vrt_path = self.raw_path + '.vrt'
        with open(vrt_path, 'w') as f:
            f.write(self._vrt(crs, transform, nodata))
        # Colours, band names and scales are set on the VRT, and the COG driver copies them.
        tmp = self.path + '.tmp.tif'
        with gdal_env():
            with rasterio.open(vrt_path, 'r+') as src:  # VRT metadata is editable in place
                if colormap:
                    src.write_colormap(1, colormap)
                for i, name in enumerate(descriptions or (), start=1):
                    src.set_band_description(i, name)
                if scales is not None:
                    src.scales = tuple(scales)
                if tags:
                    src.update_tags(**tags)
            gdal_copy(vrt_path, tmp, driver='COG', COMPRESS='DEFLATE', BLOCKSIZE=512, PREDICTOR='YES',
                      OVERVIEWS='AUTO', RESAMPLING=resampling, NUM_THREADS=1, BIGTIFF='IF_SAFER')
        os.replace(tmp, self.path)
        os.remove(vrt_path)
        os.remove(self.raw_path)
        return self.path


def _xml_escape(text: str) -> str:
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def file_fingerprint(path: str) -> List:
    """What identifies an input file's content for resuming: its path, size and modification time."""
    if path.startswith('/vsi') or not osp.exists(path):
        return [path]
    stat = os.stat(path)
    return [osp.abspath(path), stat.st_size, int(stat.st_mtime_ns)]


class ResumeState:
    """The committed progress of one run, in ``{out_dir}/.{name}.resume.json``.

    It records a fingerprint of everything that determines the outputs (inputs, model, tiling, options)
    and the number of blocks whose results are on disk. It is replaced atomically after the results
    it counts are written, so it never claims more than is there; a run with other arguments starts
    over instead of mixing results.
    """

    def __init__(self, out_dir: str, name: str, fingerprint: dict) -> None:
        self.path = osp.join(out_dir, f'.{name}.resume.json')
        self.key = hashlib.sha256(json.dumps(fingerprint, sort_keys=True, default=str).encode()).hexdigest()

    def load(self) -> Optional[dict]:
        """The committed state of an interrupted run with the same fingerprint, else None."""
        if not osp.isfile(self.path):
            return None
        try:
            with open(self.path) as f:
                state = json.load(f)
        except (OSError, ValueError):
            return None
        return state if state.get('key') == self.key else None

    def save(self, **state) -> None:
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(dict(state, key=self.key), f)
        os.replace(tmp, self.path)

    def clear(self) -> None:
        if osp.exists(self.path):
            os.remove(self.path)
