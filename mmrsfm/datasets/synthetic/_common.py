"""Shared drawing helpers and the registry of dataset writers (see :mod:`mmrsfm.datasets.synthetic`)."""
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

#: format name -> writer ``f(root, *, num_train, num_val, size, seed) -> {split: path}``; filled by
#: the :func:`writer` decorator in each task module and used by the command line.
WRITERS: Dict[str, Callable[..., Dict[str, str]]] = {}


def write_geotiff(path: str, img: np.ndarray, band_names: Optional[Sequence[str]] = None,
                  nodata: Optional[float] = None, dtype: str = 'uint16', gsd: float = 10.0, crs: str = 'EPSG:32632',
                  origin: Tuple[float, float] = (690000.0, 5340000.0)) -> None:
    """Write an (H, W, C) or (H, W) array as a GeoTIFF on a north-up grid of ``gsd``-metre pixels whose
    top-left corner is ``origin`` (easting, northing) in ``crs``; integer ``dtype`` values are rounded and
    clipped to its range. ``band_names`` become the band descriptions, ``nodata`` the declared nodata.
    """
    import rasterio  # imported here: only the GeoTIFF writers need it
    from rasterio.transform import Affine
    data = img[..., None] if img.ndim == 2 else img
    height, width, count = data.shape
    info = np.iinfo(dtype) if np.dtype(dtype).kind in 'ui' else None
    data = data.round().clip(info.min, info.max) if info else data
    profile = dict(driver='GTiff', height=height, width=width, count=count, dtype=dtype, crs=crs, nodata=nodata,
                   transform=Affine(gsd, 0, origin[0], 0, -gsd, origin[1]))
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data.transpose(2, 0, 1).astype(dtype))
        for i, name in enumerate(band_names or (), start=1):
            dst.set_band_description(i, name)


def writer(name: str) -> Callable:
    """Register a dataset writer under ``name`` for ``python -m mmrsfm.datasets.synthetic NAME``."""

    def register(fn: Callable) -> Callable:
        if name in WRITERS:
            raise KeyError(f'dataset writer {name!r} is registered twice')
        WRITERS[name] = fn
        return fn

    return register


#: Per-class (BGR colour, long/short side ratio) used by :func:`make_dota`.
_DOTA_LOOK: Dict[str, Tuple[Tuple[int, int, int], float]] = {
    'plane': ((60, 60, 230), 1.6),
    'ship': ((60, 220, 60), 3.0),
    'storage-tank': ((230, 120, 40), 1.0),
    'small-vehicle': ((40, 220, 230), 2.0),
    'harbor': ((200, 60, 200), 4.0),
}


def rotated_rect_corners(cx: float, cy: float, w: float, h: float, angle: float) -> np.ndarray:
    """Corners (4, 2) of a w×h rectangle centred at (cx, cy), rotated by ``angle`` radians, in
    clockwise image order starting top-left (the DOTA convention)."""
    c, s = np.cos(angle), np.sin(angle)
    half = np.array([[-w, -h], [w, -h], [w, h], [-w, h]], dtype=np.float64) / 2
    rot = np.array([[c, -s], [s, c]])
    return half @ rot.T + np.array([cx, cy])


def _draw_scene(rng: np.random.Generator, size: Union[int, Tuple[int, int]], classes: Sequence[str],
                max_objects: int, looks: Optional[Dict[str, Tuple[Tuple[int, int, int], float]]] = None,
                object_size: Optional[Tuple[float, float]] = None) -> Tuple[np.ndarray, list]:
    """One image with 1..max_objects non-overlapping rotated objects; returns (img, [(poly, cls)]).

    ``looks`` maps a class to its (BGR colour, aspect ratio); defaults to the DOTA looks, and a class
    without a look gets a random grey. ``size`` is a square side or ``(width, height)``;
    ``object_size`` the ``(min, max)`` long side of an object in pixels (default: 0.18..0.35 of the
    shorter image side).
    """
    looks = _DOTA_LOOK if looks is None else looks
    width, height = (size, size) if isinstance(size, int) else size
    # fraction * scale, so the default draws exactly the numbers it always drew for a given seed
    frac, scale = (object_size, 1.0) if object_size else ((0.18, 0.35), min(width, height))
    img = rng.normal(100, 12, (height, width, 3)).clip(0, 255).astype(np.uint8)
    occupied = np.zeros((height, width), np.uint8)
    objects = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        cls = classes[int(rng.integers(len(classes)))]
        colour, ratio = looks.get(cls, ((int(rng.integers(256)), ) * 3, 1.5))
        for _attempt in range(20):
            long_side = rng.uniform(*frac) * scale
            w, h = long_side, max(long_side / ratio, 6.0)
            cx, cy = rng.uniform(long_side / 2 + 2, np.array([width, height]) - long_side / 2 - 2)
            poly = rotated_rect_corners(cx, cy, w, h, rng.uniform(0, np.pi))
            mask = np.zeros_like(occupied)
            cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
            if not (mask & occupied).any():
                break
        else:
            continue  # crowded image: keep fewer objects rather than overlapping ones
        occupied |= cv2.dilate(mask, np.ones((5, 5), np.uint8))
        shade = np.array(colour) + rng.integers(-20, 21, 3)
        cv2.fillPoly(img, [np.round(poly).astype(np.int32)], shade.clip(0, 255).tolist())
        objects.append((poly, cls))
    return img, objects
