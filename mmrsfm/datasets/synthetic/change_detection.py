"""Change-detection datasets: LEVIR-CD (RGB pairs) and OSCD (13-band Sentinel-2 city pairs).

Both are learnable but not by plain differencing: between the dates objects appear (and vanish) and
only those are labelled, while the whole second image is also re-lit (per-band gain and offset) and
re-noised, so every pixel differs between the dates.
"""
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

from ..sentinel2 import S2_BANDS, S2_GSD
from ._common import write_geotiff, writer

#: Stand-in Sentinel-2 L1C signatures (digital numbers = reflectance x 10000) per band in
#: :data:`S2_BANDS` order, for the land covers drawn by :func:`make_oscd`. Plausible shapes (red
#: edge and NIR plateau of vegetation, dark water), not measured values.
_S2_SIGNATURES = dict(
    vegetation=(1300, 600, 900, 500, 1200, 2500, 3000, 3300, 3400, 1000, 20, 1800, 900),
    soil=(1400, 1200, 1500, 1900, 2100, 2300, 2400, 2500, 2600, 800, 20, 3200, 2700),
    water=(1200, 1000, 800, 500, 400, 300, 250, 200, 180, 60, 10, 100, 80),
    urban=(1500, 1400, 1500, 1600, 1700, 1800, 1900, 2000, 2050, 700, 25, 2400, 2200),
)


def _random_rects(rng: np.random.Generator, size: int, count: int, occupied: np.ndarray,
                  side: Tuple[float, float]) -> List[Tuple[int, int, int, int]]:
    """Up to ``count`` non-overlapping (y0, x0, h, w) rectangles, marked in ``occupied``."""
    rects = []
    for _ in range(count):
        for _attempt in range(20):
            h, w = (rng.uniform(*side, 2) * size).astype(int).clip(3)
            y0, x0 = rng.integers(0, size - h), rng.integers(0, size - w)
            if not occupied[max(y0 - 2, 0):y0 + h + 2, max(x0 - 2, 0):x0 + w + 2].any():
                occupied[y0:y0 + h, x0:x0 + w] = True
                rects.append((int(y0), int(x0), int(h), int(w)))
                break
    return rects


def _relight(img: np.ndarray, rng: np.random.Generator, gain: Tuple[float, float], offset: float,
             noise: float) -> np.ndarray:
    """Per-band gain and offset (illumination / atmosphere / season) plus sensor noise."""
    bands = img.shape[-1]
    return img * rng.uniform(*gain, bands) + rng.uniform(-offset, offset, bands) + rng.normal(0, noise, img.shape)


def _levir_pair(rng: np.random.Generator, size: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two BGR uint8 dates and the 0/255 change map of one LEVIR-CD-like scene."""
    low = cv2.resize(rng.normal(0, 18, (8, 8, 3)), (size, size), interpolation=cv2.INTER_CUBIC)
    ground = np.array([70, 120, 95]) + rng.integers(-15, 16, 3) + low  # fields / grass, BGR
    occupied = np.zeros((size, size), bool)
    kept = _random_rects(rng, size, int(rng.integers(1, 4)), occupied, (0.12, 0.25))
    gone = _random_rects(rng, size, int(rng.random() < 0.5), occupied, (0.12, 0.25))
    new = _random_rects(rng, size, int(rng.integers(2, 5)), occupied, (0.12, 0.25))

    palette = np.array([(170, 170, 175), (60, 70, 170), (160, 110, 60), (200, 200, 205)])
    roofs = {r: palette[rng.integers(len(palette))] + rng.integers(-12, 13, 3) for r in kept + gone + new}

    def draw(rects: list) -> np.ndarray:
        img = ground.copy()
        for y0, x0, h, w in rects:
            img[y0 + h // 4:y0 + h + 2, x0 + w:x0 + w + 2] *= 0.5  # shadow east of the building
            img[y0:y0 + h, x0:x0 + w] = roofs[(y0, x0, h, w)]
        return img

    img_a = _relight(draw(kept + gone), rng, (0.9, 1.1), 8, 6)
    img_b = _relight(draw(kept + new), rng, (0.7, 1.3), 25, 6)  # B: a different season / sun
    label = np.zeros((size, size), np.uint8)
    for y0, x0, h, w in gone + new:
        label[y0:y0 + h, x0:x0 + w] = 255
    return img_a.clip(0, 255).astype(np.uint8), img_b.clip(0, 255).astype(np.uint8), label


@writer('levircd')
def make_levircd(root: str, num_train: int = 16, num_val: int = 4, size: int = 64,
                 seed: int = 0) -> Dict[str, str]:
    """Write LEVIR-CD's official layout: ``{train,val,test}/{A,B,label}/<split>_<i>.png``.

    A and B are RGB PNGs; labels are single-band PNGs with 0 (unchanged) and 255 (changed). Buildings
    are built (and sometimes demolished) between the dates; date B is re-lit. ``test`` has
    ``num_val`` pairs. Returns ``{split: split folder}``.
    """
    rng = np.random.default_rng(seed)
    out = {}
    for split, count in (('train', num_train), ('val', num_val), ('test', num_val)):
        folders = {k: osp.join(root, split, k) for k in ('A', 'B', 'label')}
        for folder in folders.values():
            os.makedirs(folder, exist_ok=True)
        for i in range(count):
            name = f'{split}_{i + 1}.png'
            for key, img in zip(('A', 'B', 'label'), _levir_pair(rng, size)):
                cv2.imwrite(osp.join(folders[key], name), img)
        out[split] = osp.join(root, split)
    return out


def _write_tif(path: str, band: np.ndarray, gsd: int, dtype: str = 'uint16') -> None:
    """One-band GeoTIFF in UTM 31N whose pixels are ``gsd`` metres (all bands share the top-left)."""
    write_geotiff(path, band, dtype=dtype, gsd=gsd, crs='EPSG:32631', origin=(500000.0, 5000000.0))


def _coarsen(band: np.ndarray, factor: int) -> np.ndarray:
    """Block-average to a ``factor`` times coarser grid (edge-padded to whole blocks, like a sensor
    whose coarse pixels cover the whole fine extent)."""
    h, w = band.shape
    hc, wc = -(-h // factor), -(-w // factor)
    padded = np.pad(band, ((0, hc * factor - h), (0, wc * factor - w)), mode='edge')
    return padded.reshape(hc, factor, wc, factor).mean(axis=(1, 3))


def _oscd_city(rng: np.random.Generator, size: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two (size, size, 13) float dates on the 10 m grid and the binary change map."""
    covers = list(_S2_SIGNATURES)
    low = cv2.resize(rng.random((6, 6)), (size, size), interpolation=cv2.INTER_LINEAR)
    cover = np.digitize(low, [0.3, 0.55, 0.62])  # 0 vegetation, 1 soil, 2 water, 3 urban
    occupied = cover == 2  # no building on water
    urban = _random_rects(rng, size, int(rng.integers(2, 5)), occupied, (0.08, 0.2))
    new = _random_rects(rng, size, int(rng.integers(1, 4)), occupied, (0.08, 0.2))
    for y0, x0, h, w in urban:
        cover[y0:y0 + h, x0:x0 + w] = 3
    cover_b = cover.copy()
    change = np.zeros((size, size), bool)
    for y0, x0, h, w in new:
        cover_b[y0:y0 + h, x0:x0 + w] = 3
        change[y0:y0 + h, x0:x0 + w] = True
    table = np.array([_S2_SIGNATURES[c] for c in covers], np.float64)  # (4, 13)
    date_a = _relight(table[cover], rng, (0.95, 1.05), 40, 30)
    date_b = _relight(table[cover_b], rng, (0.75, 1.25), 150, 30)  # other season and atmosphere
    return date_a, date_b, change


@writer('oscd')
def make_oscd(root: str, num_train: int = 4, num_val: int = 2, size: int = 64, seed: int = 0) -> Dict[str, str]:
    """Write OSCD's official layout (the three archives under short names, see
    :class:`mmrsfm.datasets.OSCDDataset`): ``images/{train,test}.txt`` (comma-separated cities),
    ``images/<city>/imgs_{1,2}/<S2 product>_<band>.tif`` single-band uint16 GeoTIFFs at native
    10/20/60 m sizes (``ceil(size / 2)``, ``ceil(size / 6)``), ``images/<city>/imgs_{1,2}_rect/<band>.tif``
    all at 10 m, and ``{train,test}_labels/<city>/cm/<city>-cm.tif`` (1 unchanged, 2 changed) plus
    ``cm/cm.png`` (0/255). ``num_val`` cities form the test split (OSCD has no validation split).
    Returns ``{split: city list file}``.
    """
    rng = np.random.default_rng(seed)
    images = osp.join(root, 'images')
    out = {}
    for split, count in (('train', num_train), ('test', num_val)):
        cities = [f'{split}city{i}' for i in range(count)]
        for city in cities:
            dates = _oscd_city(rng, size)
            for d, img in enumerate(dates[:2], start=1):
                product = f'S2A_OPER_MSI_L1C_TL_SGS__2016060{d}T104026_A00503{d}_T31TCJ_'
                native, rect = osp.join(images, city, f'imgs_{d}'), osp.join(images, city, f'imgs_{d}_rect')
                os.makedirs(native, exist_ok=True)
                os.makedirs(rect, exist_ok=True)
                for b, band in enumerate(S2_BANDS):
                    factor = S2_GSD[band] // 10
                    coarse = img[..., b] if factor == 1 else _coarsen(img[..., b], factor)
                    _write_tif(osp.join(native, f'{product}{band}.tif'), coarse, S2_GSD[band])
                    _write_tif(osp.join(rect, f'{band}.tif'), img[..., b], 10)
            cm_dir = osp.join(root, f'{split}_labels', city, 'cm')
            os.makedirs(cm_dir, exist_ok=True)
            cv2.imwrite(osp.join(cm_dir, 'cm.png'), dates[2].astype(np.uint8) * 255)
            _write_tif(osp.join(cm_dir, f'{city}-cm.tif'), dates[2] + 1.0, 10, dtype='uint8')
        out[split] = osp.join(images, f'{split}.txt')
        with open(out[split], 'w') as f:
            f.write(','.join(cities))
    return out
