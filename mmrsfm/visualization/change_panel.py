"""Side-by-side panels of an image pair and its change maps (any band count), for change detection."""
from typing import Optional, Sequence

import os.path as osp

import numpy as np

from mmrsfm.datasets.file_checks import IMG_EXTENSIONS
from mmrsfm.datasets.raster import GEOTIFF_SUFFIXES

#: Image files read by OpenCV (channels in BGR order); GeoTIFFs go through rasterio (band order kept).
OPENCV_SUFFIXES = tuple(e for e in IMG_EXTENSIONS if e not in GEOTIFF_SUFFIXES)
#: RGB colour per change class; class 0 (no change) is never drawn.
CHANGE_PALETTE = ((0, 0, 0), (255, 64, 64), (64, 160, 255), (255, 200, 0), (0, 200, 120), (200, 80, 255))


def describe_pair(img_path) -> tuple:
    """``(name, bgr)`` of a pair's ``img_path`` = (date A, date B): the file name of date A (LEVIR-CD), or
    the scene folder of a one-file-per-band date (OSCD: images/<city>/imgs_1/<band file>); ``bgr`` when
    the date was read by OpenCV (PNG/JPEG: blue first)."""
    first = img_path[0]
    if isinstance(first, str):
        return osp.splitext(osp.basename(first))[0], first.lower().endswith(OPENCV_SUFFIXES)
    return osp.basename(osp.dirname(osp.dirname(first[0]))), False


def to_display(img: np.ndarray, bgr: bool, rgb_bands: Optional[Sequence[int]] = None) -> np.ndarray:
    """(H, W, C) of any band count and dtype -> (H, W, 3) RGB uint8: bands ``rgb_bands`` (default the
    first three; one band as grey), each stretched between its 2nd and 98th percentile, so 16-bit / float
    rasters are visible too. ``bgr``: the bands come from OpenCV (PNG/JPEG), blue first."""
    if rgb_bands is not None:
        img = img[..., list(rgb_bands)]
    elif img.shape[2] >= 3:
        img = img[..., 2::-1] if bgr else img[..., :3]
    else:
        img = np.repeat(img[..., :1], 3, axis=2)
    img = img.astype(np.float32)
    lo, hi = np.percentile(img, 2, axis=(0, 1)), np.percentile(img, 98, axis=(0, 1))
    return np.ascontiguousarray(((img - lo) / np.maximum(hi - lo, 1e-6) * 255).clip(0, 255).astype(np.uint8))


def change_panel(date_a: np.ndarray, date_b: np.ndarray, change_maps: Sequence[Optional[np.ndarray]],
                 bgr: bool, rgb_bands: Optional[Sequence[int]] = None,
                 palette: Sequence[Sequence[int]] = CHANGE_PALETTE) -> np.ndarray:
    """``date A | date B | one overlay per change map`` as one (H, (2 + k) W, 3) RGB uint8 image.

    Each overlay draws the changed pixels of a (H, W) class map (e.g. label, prediction) in their class
    colour over a darkened date B; values outside the palette (e.g. 255 = ignore) are not drawn.
    """
    colours = np.asarray(palette, dtype=np.uint8)
    a, b = to_display(date_a, bgr, rgb_bands), to_display(date_b, bgr, rgb_bands)
    tiles = [a, b]
    for change in change_maps:
        tile = (b * 0.5).astype(np.uint8)
        if change is not None:
            change = np.asarray(change).astype(np.int64)
            changed = (change > 0) & (change < len(colours))
            tile[changed] = colours[change[changed]]
        tiles.append(tile)
    return np.concatenate(tiles, axis=1)
