"""ISPRS Potsdam (2D semantic labeling benchmark): official release -> mmseg ``PotsdamDataset`` layout.

The release (ISPRS WG II/4) holds 38 true-orthophoto tiles of 6000x6000 px at 5 cm, as zips or
extracted folders:

- ``2_Ortho_RGB/top_potsdam_{i}_{j}_RGB.tif`` (3 bands), ``3_Ortho_IRRG/..._IRRG.tif`` (IR, R, G) and
  ``4_Ortho_RGBIR/..._RGBIR.tif`` (4 bands), all 8-bit GeoTIFF;
- ``5_Labels_all/top_potsdam_{i}_{j}_label.tif``: RGB-coded classes, every pixel labelled;
- ``5_Labels_all_noBoundary/top_potsdam_{i}_{j}_label_noBoundary.tif``: the *eroded* reference, the
  same labels with the pixels near class boundaries painted black (0, 0, 0) = not scored. The
  benchmark scores on the eroded reference; older releases name the folders
  ``5_Labels_for_participants(_no_Boundary)`` and cover only the 24 training tiles.

Colour codes (RGB): impervious surfaces (255, 255, 255), building (0, 0, 255), low vegetation
(0, 255, 255), tree (0, 255, 0), car (255, 255, 0), clutter/background (255, 0, 0).

Output (what mmseg's own converter produces and ``PotsdamDataset`` reads): ``img_dir/{train,val}`` and
``ann_dir/{train,val}`` PNG patches, labels 0 = ignore (eroded boundary), 1..6 = the classes above in
that order; ``PotsdamDataset`` loads them with ``reduce_zero_label=True``, so 0 becomes 255 (ignored)
and clutter is class 5 of 6 (mmseg scores it; many papers report the mean over the other five).
``val`` holds the 14 benchmark test tiles (mmseg's naming). Optionally whole tiles are written to
``{img,ann}_dir/{split}_tiles`` for sliding-window evaluation.

Verified against mmseg 1.2.2 (``tools/dataset_converters/potsdam.py``, ``PotsdamDataset``) and torchgeo's
``Potsdam2D`` (same 24/14 tile split, same colour codes); written independently.
"""
import os
import os.path as osp
import re
import zipfile
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

from ..file_checks import DatasetFormatError, check_same_size
from ..raster import read_bands

#: mmseg ``PotsdamDataset`` class order; label value ``k + 1`` in the written PNGs.
POTSDAM_CLASSES = ('impervious_surface', 'building', 'low_vegetation', 'tree', 'car', 'clutter')
#: RGB colour of each class in the official label tiles, in :data:`POTSDAM_CLASSES` order.
POTSDAM_PALETTE = ((255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0), (255, 0, 0))
#: Eroded boundary pixels of the ``noBoundary`` labels (written as 0 = ignore).
BOUNDARY_COLOUR = (0, 0, 0)
#: The benchmark's 24 labelled training tiles and 14 test tiles (mmseg calls the latter ``val``).
POTSDAM_SPLITS: Dict[str, Tuple[str, ...]] = {
    'train': ('2_10', '2_11', '2_12', '3_10', '3_11', '3_12', '4_10', '4_11', '4_12', '5_10', '5_11', '5_12',
              '6_7', '6_8', '6_9', '6_10', '6_11', '6_12', '7_7', '7_8', '7_9', '7_10', '7_11', '7_12'),
    'val': ('2_13', '2_14', '3_13', '3_14', '4_13', '4_14', '4_15', '5_13', '5_14', '5_15', '6_13', '6_14',
            '6_15', '7_13'),
}
#: Image modality -> release folder; the file suffix is the modality name (``_RGB.tif``).
MODALITY_FOLDERS = {'RGB': '2_Ortho_RGB', 'IRRG': '3_Ortho_IRRG', 'RGBIR': '4_Ortho_RGBIR'}

_TILE_RE = re.compile(r'top_potsdam_(\d+_\d+)_(RGB|IRRG|RGBIR|label|label_noBoundary)\.tif$')


def _rgb_key(rgb: np.ndarray) -> np.ndarray:
    """One uint32 per pixel (r << 16 | g << 8 | b), so each colour compares in one pass."""
    rgb = rgb.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def potsdam_label_to_index(rgb: np.ndarray, path: str = '<array>', ignore_unknown: bool = False) -> np.ndarray:
    """Map an RGB-coded label tile to indices: 0 = ignore (black boundary), 1..6 = the classes.

    Args:
        rgb: (H, W, 3) uint8 label in RGB band order.
        path: File name for messages.
        ignore_unknown: Map colours outside the palette to 0 (logged) instead of raising.

    Raises:
        DatasetFormatError: Some pixels have a colour outside the palette (and not ``ignore_unknown``).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise DatasetFormatError(f"'{path}' has shape {rgb.shape}; a Potsdam label tile is RGB (H, W, 3)")
    key = _rgb_key(rgb)
    index = np.zeros(key.shape, np.uint8)
    known = key == _rgb_key(np.array(BOUNDARY_COLOUR))
    for i, colour in enumerate(POTSDAM_PALETTE):
        hit = key == _rgb_key(np.array(colour))
        index[hit] = i + 1
        known |= hit
    unknown = int(key.size - known.sum())
    if unknown:
        values, counts = np.unique(key[~known], return_counts=True)
        top = sorted(zip(counts.tolist(), values.tolist()), reverse=True)[:5]
        examples = ', '.join(f'{(v >> 16, (v >> 8) & 255, v & 255)}: {n} px' for n, v in top)
        if not ignore_unknown:
            raise DatasetFormatError(
                f"'{path}': {unknown} pixels have colours outside the Potsdam palette ({examples}). Fix: "
                f'check that this is a 5_Labels_all(_noBoundary) tile (not a JPEG-compressed or resampled '
                f'copy), or map them to ignore with ignore_unknown=True (--ignore-unknown-colours).')
        print_log(f"'{path}': {unknown} pixels with colours outside the palette mapped to ignore ({examples})",
                  logger='current')
    return index


def crop_windows(height: int, width: int, size: int, stride: int) -> List[Tuple[int, int, int, int]]:
    """Windows ``(x0, y0, x1, y1)`` of ``size`` px every ``stride`` px covering the whole tile.

    The last window in each direction is aligned to the tile border (it overlaps its neighbour rather
    than running off the tile); a side shorter than ``size`` gets a single window of its own length.
    """
    def starts(n: int) -> List[int]:
        if n <= size:
            return [0]
        return list(range(0, n - size, stride)) + [n - size]

    return [(x, y, min(x + size, width), min(y + size, height)) for y in starts(height) for x in starts(width)]


def _find_tiles(src: str) -> Dict[Tuple[str, str], str]:
    """``{(tile id, kind): path}`` for every Potsdam tile under ``src`` (folders and ``*.zip`` files).

    Paths inside zips use GDAL's ``/vsizip/`` prefix, so tiles are read without extracting them.
    """
    found: Dict[Tuple[str, str], str] = {}

    def add(name: str, path: str) -> None:
        match = _TILE_RE.search(name)
        if match:
            found.setdefault((match.group(1), match.group(2)), path)

    for dirpath, _, files in sorted(os.walk(src)):
        for name in sorted(files):
            full = osp.join(dirpath, name)
            if name.lower().endswith('.zip'):
                with zipfile.ZipFile(full) as zf:
                    for member in zf.namelist():
                        add(osp.basename(member), f'/vsizip/{osp.abspath(full)}/{member}')
            else:
                add(name, full)
    return found


def _read_tile(path: str) -> np.ndarray:
    """A GeoTIFF tile (a file or a ``/vsizip/`` member) as (H, W, bands) uint8."""
    data = read_bands(path).data  # the shared reader: a missing or corrupt tile is named, as in the loaders
    if data.dtype != np.uint8:
        raise DatasetFormatError(f"'{path}' is {data.dtype}; the Potsdam orthophotos and labels are 8-bit")
    return data


def _to_cv2_order(img: np.ndarray) -> np.ndarray:
    """Reverse the first three bands so mmcv's BGR loading + ``bgr_to_rgb=True`` gives the file's order."""
    return np.ascontiguousarray(np.concatenate([img[..., 2::-1], img[..., 3:]], axis=-1))


def _check_kinds(tiles: Dict[Tuple[str, str], str], src: str, modality: str, eroded: bool) -> None:
    """Name the real fix when the release holds other images or labels than asked for: the full
    labels instead of the eroded ones (``--full-labels``) and vice versa, or another modality."""
    kinds = {kind for _, kind in tiles}
    label_kind, other = ('label_noBoundary', 'label') if eroded else ('label', 'label_noBoundary')
    if label_kind not in kinds and other in kinds:
        if eroded:
            raise FileNotFoundError(
                f"Potsdam: '{src}' holds 5_Labels_all (top_potsdam_*_label.tif) but no eroded labels "
                f'(5_Labels_all_noBoundary, *_label_noBoundary.tif), which the conversion uses by default. Fix: '
                f'pass --full-labels (eroded=False) to train and score on the full labels, or add '
                f'5_Labels_all_noBoundary(.zip) from the release (the benchmark scores on the eroded labels).')
        raise FileNotFoundError(
            f"Potsdam: '{src}' holds only the eroded labels (5_Labels_all_noBoundary) but --full-labels asks for "
            f'5_Labels_all (top_potsdam_*_label.tif). Fix: leave --full-labels out, or add 5_Labels_all(.zip).')
    if modality not in kinds:
        have = sorted(k for k in kinds if k in MODALITY_FOLDERS)
        if have:
            raise FileNotFoundError(
                f"Potsdam: '{src}' has no {MODALITY_FOLDERS[modality]} images (top_potsdam_*_{modality}.tif) but has "
                f"{', '.join(MODALITY_FOLDERS[k] for k in have)}. Fix: pass --modality {have[0]} (modality="
                f"'{have[0]}'), or add {MODALITY_FOLDERS[modality]}(.zip) from the release.")


def convert_potsdam(src: str, out_dir: str, modality: str = 'RGB', eroded: bool = True, crop_size: int = 512,
                    stride: Optional[int] = None, full_tiles: Sequence[str] = ('val', ),
                    ignore_unknown: bool = False,
                    splits: Optional[Dict[str, Sequence[str]]] = None) -> Dict[str, int]:
    """Crop the official Potsdam tiles into mmseg's ``img_dir/ann_dir`` layout.

    Args:
        src: Folder holding the release zips and/or extracted folders (searched recursively).
        out_dir: Output root (``img_dir/``, ``ann_dir/`` are created).
        modality: ``'RGB'``, ``'IRRG'`` or ``'RGBIR'`` (4-band PNGs, loaded as B, G, R, IR: use
            ``bgr_to_rgb=False`` and 4-value mean/std). Defaults to ``'RGB'``.
        eroded: Use the ``noBoundary`` labels (boundary pixels ignored, the benchmark's scoring
            reference; mmseg's default) instead of the fully labelled tiles. Defaults to True.
        crop_size: Patch side. Defaults to 512.
        stride: Step between patches; defaults to ``crop_size`` (no overlap).
        full_tiles: Splits also written uncropped to ``{img,ann}_dir/{split}_tiles`` (for
            sliding-window evaluation). Defaults to ``('val', )``.
        ignore_unknown: Map label colours outside the palette to ignore instead of raising.
        splits: ``{split: tile ids}``; defaults to :data:`POTSDAM_SPLITS`.

    Returns:
        Number of PNGs written per output folder, e.g. ``{'train': 1728, 'val': 1008, 'val_tiles': 14}``.
    """
    if modality not in MODALITY_FOLDERS:
        raise ValueError(f"modality '{modality}' is not one of {sorted(MODALITY_FOLDERS)}")
    splits = dict(splits or POTSDAM_SPLITS)
    unknown_splits = set(full_tiles) - set(splits)
    if unknown_splits:
        raise ValueError(f'full_tiles names splits {sorted(unknown_splits)} that are not in {sorted(splits)}')
    stride = stride or crop_size
    label_kind = 'label_noBoundary' if eroded else 'label'
    tiles = _find_tiles(src)
    if not tiles:
        raise FileNotFoundError(f"no Potsdam tiles (top_potsdam_*_{modality}.tif / *_label*.tif) under '{src}'. "
                                f'Fix: pass the folder holding {MODALITY_FOLDERS[modality]}(.zip) and '
                                f'5_Labels_all{"_noBoundary" if eroded else ""}(.zip).')
    _check_kinds(tiles, src, modality, eroded)
    counts: Dict[str, int] = {}
    for split, ids in splits.items():
        todo = [t for t in ids if (t, modality) in tiles and (t, label_kind) in tiles]
        skipped = sorted(set(ids) - set(todo))
        if skipped:
            print_log(f'Potsdam {split}: {len(skipped)} tile(s) lack a {modality} image or a {label_kind} file, '
                      f'skipped: {skipped}', logger='current')
        if not todo:
            raise FileNotFoundError(f"Potsdam {split}: none of its {len(ids)} tiles has both a {modality} image "
                                    f"(top_potsdam_*_{modality}.tif) and a {label_kind} file under '{src}'")
        outputs = [split] + ([f'{split}_tiles'] if split in full_tiles else [])
        for name in outputs:
            for sub in ('img_dir', 'ann_dir'):
                os.makedirs(osp.join(out_dir, sub, name), exist_ok=True)
            counts[name] = 0
        for tile in todo:
            img_path, ann_path = tiles[(tile, modality)], tiles[(tile, label_kind)]
            img = _to_cv2_order(_read_tile(img_path))
            label_rgb = _read_tile(ann_path)
            check_same_size(img_path, img.shape[:2], ann_path, label_rgb.shape[:2])
            ann = potsdam_label_to_index(label_rgb, ann_path, ignore_unknown)
            del label_rgb
            height, width = ann.shape
            for x0, y0, x1, y1 in crop_windows(height, width, crop_size, stride):
                stem = f'{tile}_{x0}_{y0}_{x1}_{y1}.png'
                cv2.imwrite(osp.join(out_dir, 'img_dir', split, stem), img[y0:y1, x0:x1])
                cv2.imwrite(osp.join(out_dir, 'ann_dir', split, stem), ann[y0:y1, x0:x1])
                counts[split] += 1
            if split in full_tiles:
                cv2.imwrite(osp.join(out_dir, 'img_dir', f'{split}_tiles', f'{tile}.png'), img)
                cv2.imwrite(osp.join(out_dir, 'ann_dir', f'{split}_tiles', f'{tile}.png'), ann)
                counts[f'{split}_tiles'] += 1
    print_log(f"Potsdam -> '{out_dir}': " + ', '.join(f'{k}: {v} PNGs' for k, v in counts.items()),
              logger='current')
    return counts
