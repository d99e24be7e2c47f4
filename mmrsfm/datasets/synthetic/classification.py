"""Writers of single-label scene-classification releases: AID, NWPU-RESISC45, UC Merced, EuroSAT (RGB, MS).

Every writer creates all release class folders (so the class list is the real one) unless ``classes``
picks a subset, with ``per_class`` images each. Each class has a fixed look -- a mean colour spread
over the colour cube, a stripe texture of its own orientation and period -- plus per-image noise and
jitter, so a tiny CNN separates the classes within a few dozen iterations. EuroSAT-MS classes differ by
spectral signature instead.
"""
import math
import os
import os.path as osp
import zlib
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from ..scene_classification import (AID_CLASSES, EUROSAT_CLASSES, EUROSAT_MS_BANDS, EUROSAT_MS_DIR,
                                    EUROSAT_RGB_DIR, EUROSAT_SPLIT_FILES, NWPU_RESISC45_CLASSES, UCMERCED_CLASSES)
from ._common import write_geotiff, writer

__all__ = ['make_aid', 'make_nwpu_resisc45', 'make_ucmerced', 'make_eurosat_rgb', 'make_eurosat_ms']


def _pick(classes: Optional[Sequence[str]], known: Sequence[str], dataset: str) -> List[str]:
    if classes is None:
        return list(known)
    unknown = sorted(set(classes) - set(known))
    if unknown:
        raise ValueError(f'classes {unknown} are not {dataset} classes: {tuple(known)}')
    return list(classes)


def _per_class(per_class: int, num_train: Optional[int], num_val: Optional[int], n_classes: int) -> int:
    # The command line passes --num-train / --num-val totals; spread them over the classes.
    if num_train is None and num_val is None:
        return per_class
    return max(1, math.ceil(((num_train or 0) + (num_val or 0)) / n_classes))


def _colour(index: int, count: int) -> np.ndarray:
    """BGR mean colour of class ``index`` of ``count``: a point of a k x k x k grid of the colour cube
    (k levels per channel, at least 70 apart for 45 classes), visited with a stride coprime to k**3 so that
    consecutive classes are far apart."""
    k = max(2, math.ceil(count ** (1 / 3)))
    levels = np.linspace(40, 250, k)
    stride = next(s for s in (7, 11, 13, 17, 19, 23) if math.gcd(s, k ** 3) == 1)
    cell = (index * stride) % k ** 3
    return np.array([levels[cell // (k * k)], levels[(cell // k) % k], levels[cell % k]], np.float32)


def _scene(rng: np.random.Generator, index: int, count: int, size: tuple) -> np.ndarray:
    """(H, W, 3) uint8 BGR image of class ``index`` of ``count``: the class's colour and stripes, plus noise."""
    height, width = size
    angle = np.pi * (index % 6) / 6
    period = 6 + 4 * (index % 3)
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi)
    stripes = np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period + phase)
    noise = rng.normal(0, 10, (height, width, 3))
    img = _colour(index, count) * rng.uniform(0.95, 1.05) + 20 * stripes[..., None] + noise
    return img.clip(0, 255).astype(np.uint8)


def _write_folders(img_root: str, classes: List[str], known: Sequence[str], per_class: int, size: int,
                   seed: int, name_fn, off_size: int = 0) -> Dict[str, List[str]]:
    """Write ``img_root/<class>/<name_fn(class, i)>`` images; returns ``{class: [file, ...]}``."""
    rng = np.random.default_rng(seed)
    files: Dict[str, List[str]] = {}
    for cls in classes:
        os.makedirs(osp.join(img_root, cls), exist_ok=True)
        files[cls] = []
        for i in range(per_class):
            hw = (size, size - 3) if (i < off_size and cls == classes[0]) else (size, size)
            name = name_fn(cls, i)
            cv2.imwrite(osp.join(img_root, cls, name), _scene(rng, known.index(cls), len(known), hw))
            files[cls].append(name)
    return files


@writer('aid')
def make_aid(root: str, per_class: int = 4, size: int = 64, classes: Optional[Sequence[str]] = None,
             seed: int = 0, num_train: Optional[int] = None, num_val: Optional[int] = None) -> Dict[str, str]:
    """Write AID's layout ``<root>/<Class>/<class>_<n>.jpg`` (real: 600 x 600; :class:`AIDDataset`). AID has
    no split: make one with ``tools/dataset_converters/scene_split.py``. Returns ``dict(images=root)``."""
    picked = _pick(classes, AID_CLASSES, 'AID')
    n = _per_class(per_class, num_train, num_val, len(picked))
    _write_folders(root, picked, AID_CLASSES, n, size, seed, lambda c, i: f'{c.lower()}_{i + 1}.jpg')
    return dict(images=root)


@writer('nwpu-resisc45')
def make_nwpu_resisc45(root: str, per_class: int = 4, size: int = 64, classes: Optional[Sequence[str]] = None,
                       seed: int = 0, num_train: Optional[int] = None,
                       num_val: Optional[int] = None) -> Dict[str, str]:
    """Write NWPU-RESISC45's layout ``<root>/<class>/<class>_<nnn>.jpg`` (real: 256 x 256;
    :class:`NWPUResisc45Dataset`). No split: use the split tool. Returns ``dict(images=root)``."""
    picked = _pick(classes, NWPU_RESISC45_CLASSES, 'NWPU-RESISC45')
    n = _per_class(per_class, num_train, num_val, len(picked))
    _write_folders(root, picked, NWPU_RESISC45_CLASSES, n, size, seed, lambda c, i: f'{c}_{i + 1:03d}.jpg')
    return dict(images=root)


@writer('ucmerced')
def make_ucmerced(root: str, per_class: int = 4, size: int = 64, classes: Optional[Sequence[str]] = None,
                  seed: int = 0, off_size: int = 0, num_train: Optional[int] = None,
                  num_val: Optional[int] = None) -> Dict[str, str]:
    """Write UC Merced's layout ``<root>/Images/<class>/<class><NN>.tif`` (RGB TIFF; :class:`UCMercedDataset`).
    ``off_size`` images of the first class are 3 px narrower, as a few real ones are not 256 x 256 (a
    pipeline without a resize cannot batch them). No split: use the split tool. Returns ``dict(images=...)``."""
    picked = _pick(classes, UCMERCED_CLASSES, 'UC Merced')
    n = _per_class(per_class, num_train, num_val, len(picked))
    img_root = osp.join(root, 'Images')
    _write_folders(img_root, picked, UCMERCED_CLASSES, n, size, seed, lambda c, i: f'{c}{i:02d}.tif', off_size)
    return dict(images=img_root)


def _eurosat_lists(root: str, files: Dict[str, List[str]], seed: int) -> Dict[str, str]:
    """Neumann et al.'s ``eurosat-{train,val,test}.txt`` (60 / 20 / 20 % per class, shuffled ``<Class>_<n>.jpg``
    names; the real lists name .jpg files for both releases)."""
    rng = np.random.default_rng([seed, zlib.crc32(b'eurosat-lists')])
    lines: Dict[str, List[str]] = dict(train=[], val=[], test=[])
    for cls, names in files.items():
        order = rng.permutation(len(names))
        # 60 / 20 / 20 %, but val and test keep at least one image per class from 3 images per class on
        n_val = max(1, round(len(names) * 0.2)) if len(names) >= 3 else 0
        n_train = len(names) - n_val - (max(1, round(len(names) * 0.2)) if len(names) >= 2 else 0)
        jpgs = [osp.splitext(names[i])[0] + '.jpg' for i in order]
        lines['train'] += jpgs[:n_train]
        lines['val'] += jpgs[n_train:n_train + n_val]
        lines['test'] += jpgs[n_train + n_val:]
    out = {}
    for split, names in lines.items():
        out[split] = osp.join(root, EUROSAT_SPLIT_FILES[split])
        with open(out[split], 'w') as f:
            f.write(''.join(n + '\n' for n in rng.permutation(names)))
    return out


@writer('eurosat-rgb')
def make_eurosat_rgb(root: str, per_class: int = 10, size: int = 64, classes: Optional[Sequence[str]] = None,
                     seed: int = 0, num_train: Optional[int] = None,
                     num_val: Optional[int] = None) -> Dict[str, str]:
    """Write the EuroSAT RGB release ``<root>/2750/<Class>/<Class>_<n>.jpg`` (64 x 64) and the
    ``eurosat-{train,val,test}.txt`` lists in ``root`` (:class:`EuroSATDataset`, ``release='rgb'``).
    Returns ``dict(images=..., train=..., val=..., test=...)``."""
    picked = _pick(classes, EUROSAT_CLASSES, 'EuroSAT')
    n = _per_class(per_class, num_train, num_val, len(picked))
    img_root = osp.join(root, EUROSAT_RGB_DIR)
    files = _write_folders(img_root, picked, EUROSAT_CLASSES, n, size, seed, lambda c, i: f'{c}_{i + 1}.jpg')
    return dict(images=img_root, **_eurosat_lists(root, files, seed))


def _ms_signatures() -> np.ndarray:
    """(10, 13) stand-in L1C digital numbers per EuroSAT class, in :data:`EUROSAT_MS_BANDS` file order:
    a smooth random spectrum per class (fixed, independent of the seed), with B10 (cirrus) near 15 as in
    real L1C data."""
    rng = np.random.default_rng(2019)
    spectra = (rng.uniform(800, 2500, (len(EUROSAT_CLASSES), 1))
               + np.cumsum(rng.normal(0, 400, (len(EUROSAT_CLASSES), len(EUROSAT_MS_BANDS))), axis=1))
    spectra[:, EUROSAT_MS_BANDS.index('B10')] = rng.uniform(8, 25, len(EUROSAT_CLASSES))
    return spectra.clip(5, 8000)


@writer('eurosat-ms')
def make_eurosat_ms(root: str, per_class: int = 10, size: int = 64, classes: Optional[Sequence[str]] = None,
                    seed: int = 0, band_descriptions: bool = False, num_train: Optional[int] = None,
                    num_val: Optional[int] = None) -> Dict[str, str]:
    """Write the EuroSAT multispectral release
    ``<root>/ds/images/remote_sensing/otherDatasets/sentinel_2/tif/<Class>/<Class>_<n>.tif``: 13-band uint16
    GeoTIFFs in the release band order (:data:`EUROSAT_MS_BANDS`, B8A last), without band descriptions
    like the release (``band_descriptions=True`` names them), and the ``eurosat-*.txt`` lists (``.jpg``
    names, as the real lists). Returns ``dict(images=..., train=..., val=..., test=...)``."""
    picked = _pick(classes, EUROSAT_CLASSES, 'EuroSAT')
    n = _per_class(per_class, num_train, num_val, len(picked))
    img_root = osp.join(root, EUROSAT_MS_DIR)
    signatures = _ms_signatures()
    rng = np.random.default_rng(seed)
    files: Dict[str, List[str]] = {}
    for cls in picked:
        os.makedirs(osp.join(img_root, cls), exist_ok=True)
        files[cls] = []
        for i in range(n):
            name = f'{cls}_{i + 1}.tif'
            spectrum = signatures[EUROSAT_CLASSES.index(cls)] * rng.uniform(0.9, 1.1)
            img = spectrum + rng.normal(0, 60, (size, size, len(EUROSAT_MS_BANDS)))
            write_geotiff(osp.join(img_root, cls, name), img, EUROSAT_MS_BANDS if band_descriptions else None)
            files[cls].append(name)
    return dict(images=img_root, **_eurosat_lists(root, files, seed))
