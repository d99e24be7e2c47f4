"""Semantic-segmentation datasets: LoveDA (converted and official layouts) and ISPRS Potsdam."""
import os
import os.path as osp
import shutil
import zipfile
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..converters.potsdam import MODALITY_FOLDERS, POTSDAM_PALETTE, POTSDAM_SPLITS
from ._common import write_geotiff, writer

#: Label values the patches of each LoveDA domain are drawn from (urban: built-up, rural: land cover).
_LOVEDA_DOMAIN_VALUES = {'Urban': (2, 3, 4, 5), 'Rural': (4, 5, 6, 7)}


def _loveda_tile(rng: np.random.Generator, size: int, colours: np.ndarray,
                 values: Optional[Sequence[int]] = None) -> Tuple[np.ndarray, np.ndarray]:
    """(BGR image, label): class 1 (background) with 2-4 axis-aligned patches of other classes, each
    class in its own colour (``colours[value]``), and a no-data (0) top row so ignore handling is exercised.

    Patch classes are drawn from ``values``, or uniformly from 2..7 when it is None.
    """
    label = np.ones((size, size), np.uint8)
    for _patch in range(int(rng.integers(2, 5))):
        x0, y0 = rng.integers(0, size * 3 // 4, 2)
        w, h = rng.integers(size // 6, size // 2, 2)
        label[y0:y0 + h, x0:x0 + w] = rng.integers(2, len(colours)) if values is None else rng.choice(values)
    label[0] = 0
    img = colours[label] + rng.normal(0, 8, (size, size, 3))
    return img.clip(0, 255).astype(np.uint8), label


@writer('loveda')
def make_loveda(root: str, num_train: int = 16, num_val: int = 4, size: int = 64,
                seed: int = 0) -> Dict[str, str]:
    """Write LoveDA in the layout mmseg's LoveDA converter produces and ``LoveDADataset`` reads:
    ``img_dir/{train,val}/N.png`` (RGB) and ``ann_dir/{train,val}/N.png`` (uint8 labels 0..7), each
    drawn by :func:`_loveda_tile`.
    """
    from ..loveda_official import LOVEDA_CLASSES  # needs mmseg
    rng = np.random.default_rng(seed)
    colours = rng.integers(30, 226, (len(LOVEDA_CLASSES) + 1, 3))  # mask values 0..7
    out, index = {}, 0
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir, ann_dir = osp.join(root, 'img_dir', split), osp.join(root, 'ann_dir', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for _ in range(count):
            img, label = _loveda_tile(rng, size, colours)
            cv2.imwrite(osp.join(img_dir, f'{index}.png'), img)
            cv2.imwrite(osp.join(ann_dir, f'{index}.png'), label)
            index += 1
        out[split] = img_dir
    return out


@writer('loveda-official')
def make_loveda_official(root: str, num_train: int = 8, num_val: int = 4, size: int = 64, seed: int = 0,
                         num_test: int = 2) -> Dict[str, str]:
    """Write LoveDA in its official release layout, read by ``mmrsfm.LoveDAOfficialDataset``:
    ``{Train,Val}/{Urban,Rural}/{images_png,masks_png}/N.png`` and ``Test/{Urban,Rural}/images_png``.

    Each split's images are shared between the domains (urban gets the odd one); the domains differ
    in which classes their patches show (urban: building/road/water/barren, rural: water/barren/
    forest/agriculture), as the real ones differ in class distribution. File numbers run on across
    splits and domains, as in the release.
    """
    from ..loveda_official import LOVEDA_CLASSES  # needs mmseg
    rng = np.random.default_rng(seed)
    colours = rng.integers(30, 226, (len(LOVEDA_CLASSES) + 1, 3))  # mask values 0..7
    out, index = {}, 0
    for split, count in (('Train', num_train), ('Val', num_val), ('Test', num_test)):
        for domain, n in (('Urban', (count + 1) // 2), ('Rural', count // 2)):
            folder = osp.join(root, split, domain)
            subdirs = ('images_png', ) if split == 'Test' else ('images_png', 'masks_png')
            for sub in subdirs:
                os.makedirs(osp.join(folder, sub), exist_ok=True)
            for _ in range(n):
                img, label = _loveda_tile(rng, size, colours, _LOVEDA_DOMAIN_VALUES[domain])
                cv2.imwrite(osp.join(folder, 'images_png', f'{index}.png'), img)
                if split != 'Test':
                    cv2.imwrite(osp.join(folder, 'masks_png', f'{index}.png'), label)
                index += 1
        out[split.lower()] = osp.join(root, split)
    return out


#: Per Potsdam class: mean RGB of the synthetic orthophoto and near-infrared level (vegetation bright).
_POTSDAM_LOOK = ((170, 170, 165, 60), (190, 90, 70, 70), (120, 190, 90, 200), (40, 110, 45, 230),
                 (30, 40, 200, 50), (140, 100, 40, 90))


def _potsdam_scene(rng: np.random.Generator, size: int) -> np.ndarray:
    """Class index map 0..5 (POTSDAM_CLASSES order): impervious ground with buildings, low
    vegetation, trees (round), cars (small) and clutter drawn over it."""
    index = np.zeros((size, size), np.uint8)
    for cls, count, (lo, hi) in ((1, 3, (0.15, 0.3)), (2, 3, (0.1, 0.25)), (3, 4, (0.04, 0.08)),
                                 (4, 5, (0.03, 0.05)), (5, 2, (0.04, 0.08))):
        for _ in range(int(rng.integers(1, count + 1))):
            w, h = (rng.uniform(lo, hi, 2) * size).astype(int) + 2
            x, y = rng.integers(0, size - w), rng.integers(0, size - h)
            if cls == 3:  # trees: discs
                cv2.circle(index, (int(x + w // 2), int(y + w // 2)), int(w // 2), cls, -1)
            else:
                index[y:y + h, x:x + w] = cls
    return index


def _write_potsdam_tif(path: str, bands: np.ndarray) -> None:
    """(H, W, C) uint8 -> GeoTIFF georeferenced like a Potsdam tile (UTM 33N, 5 cm pixels)."""
    write_geotiff(path, bands, dtype='uint8', gsd=0.05, crs='EPSG:32633', origin=(366000.0, 5808000.0))


@writer('potsdam')
def make_potsdam(root: str, num_train: int = 2, num_val: int = 1, size: int = 192, seed: int = 0,
                 modalities: Sequence[str] = ('RGB', ), zipped: bool = False) -> Dict[str, str]:
    """Write ISPRS Potsdam tiles in the official release layout (see
    :mod:`mmrsfm.datasets.converters.potsdam`): ``2_Ortho_RGB/top_potsdam_{i}_{j}_RGB.tif`` (and
    ``4_Ortho_RGBIR``/``3_Ortho_IRRG`` if asked), ``5_Labels_all/top_potsdam_{i}_{j}_label.tif`` (RGB
    colour codes) and ``5_Labels_all_noBoundary/..._label_noBoundary.tif`` (class boundaries black),
    all 8-bit GeoTIFF of ``size`` x ``size`` px.

    Tiles take the first ``num_train`` official training ids and the first ``num_val`` test ids.
    With ``zipped`` each folder becomes a zip as distributed (label zips hold the files at their
    root, image zips a folder).
    """
    rng = np.random.default_rng(seed)
    look = np.array(_POTSDAM_LOOK)
    palette = np.array(POTSDAM_PALETTE, np.uint8)
    folders = [MODALITY_FOLDERS[m] for m in modalities] + ['5_Labels_all', '5_Labels_all_noBoundary']
    for folder in folders:
        os.makedirs(osp.join(root, folder), exist_ok=True)
    tiles = list(POTSDAM_SPLITS['train'][:num_train]) + list(POTSDAM_SPLITS['val'][:num_val])
    for tile in tiles:
        index = _potsdam_scene(rng, size)
        rgbir = (look[index] + rng.normal(0, 10, (size, size, 4))).clip(0, 255).astype(np.uint8)
        bands = dict(RGB=rgbir[..., :3], IRRG=rgbir[..., [3, 0, 1]], RGBIR=rgbir)
        for m in modalities:
            _write_potsdam_tif(osp.join(root, MODALITY_FOLDERS[m], f'top_potsdam_{tile}_{m}.tif'), bands[m])
        label = palette[index]
        _write_potsdam_tif(osp.join(root, '5_Labels_all', f'top_potsdam_{tile}_label.tif'), label)
        kernel = np.ones((3, 3), np.uint8)  # the release erodes with a larger disc; 1 px suits small tiles
        boundary = cv2.dilate(index, kernel) != cv2.erode(index, kernel)
        label[boundary] = 0
        _write_potsdam_tif(osp.join(root, '5_Labels_all_noBoundary', f'top_potsdam_{tile}_label_noBoundary.tif'),
                           label)
    out = {folder: osp.join(root, folder) for folder in folders}
    if zipped:
        for folder in folders:
            with zipfile.ZipFile(out[folder] + '.zip', 'w') as zf:
                for name in sorted(os.listdir(out[folder])):
                    arcname = name if folder.startswith('5_') else f'{folder}/{name}'
                    zf.write(osp.join(out[folder], name), arcname)
            shutil.rmtree(out[folder])
            out[folder] += '.zip'
    return out
