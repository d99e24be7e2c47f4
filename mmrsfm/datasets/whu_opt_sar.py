"""WHU-OPT-SAR (Li et al., MCANet, JAG 2022): paired GF-1 optical + GF-3 SAR land-cover segmentation.

Release (``github.com/AmberHen/WHU-OPT-SAR-dataset``; 100 co-registered pairs, ~5 m, 5556 x 3704 px
GeoTIFF tiles, one file name per pair in every folder)::

    WHU-OPT-SAR/optical/NH49E001013.tif   4 bands (R, G, B, NIR), 8 bit
    WHU-OPT-SAR/sar/NH49E001013.tif       1 band, 8 bit
    WHU-OPT-SAR/lbl/NH49E001013.tif       1 band, label-file values below

What was checked, and where (no official loader exists; the release page could not be read here):
the folder names ``optical`` / ``sar`` / ``lbl`` and tile names such as ``NH49E001013.tif`` from
third-party loaders (a tiling script pairing ``sar/`` and ``optical/`` by identical file names; a
pre-flight check reading ``whu-opt-sar/lbl/NH49E001013.tif`` as a (3704, 5556) array; the SOLC
re-implementation of MCANet cropping ``sar``/``opt``/``lbl`` and converting the labels to 0..7);
label values 0 (background) and 10, 20, ..., 70 for farmland, city, village, water, forest, road,
others from a third-party indexer ("multiples of ten (0, 10, ... 70)"), which also notes a 5555 px
wide label, so tile sizes are read, never assumed. Optical band order R, G, B, NIR as the task
statement gives it (file order is kept; verify on your copy). The release has no official split:
MCANet splits random 256 px patches 6:2:2, which puts neighbouring patches of one tile in train and
test; :func:`convert_whu_opt_sar` splits by whole tile instead (every ``val_every``-th tile in name
order is validation).

Training ids: the 7 classes 0..6 (:data:`WHU_OPT_SAR_LABEL_VALUES`); background (0) is ignored (255),
as in the 7-class results reported on WHU-OPT-SAR. Any other value is an error naming the file (checked
once per file, see :mod:`mmrsfm.datasets.label_checks`).

Samples are ``img_path = {'opt': ..., 'sar': ...}`` + ``seg_map_path``; ``mmrsfm.LoadStackedModalities``
stacks them as 5 bands (optical first) so one random crop / flip covers both modalities and the label
(see :mod:`mmrsfm.datasets.transforms.paired_seg`).
"""
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset

from mmrsfm.registry import DATASETS
from .file_checks import DatasetFormatError
from .label_checks import IGNORE_INDEX, LabelValuesMixin, check_label_values
from .transforms.paired_seg import read_stacked

#: Class names in training-id order.
WHU_OPT_SAR_CLASSES = ('farmland', 'city', 'village', 'water', 'forest', 'road', 'others')
#: Label-file value of each class (class i is stored as WHU_OPT_SAR_LABEL_VALUES[i]).
WHU_OPT_SAR_LABEL_VALUES = (10, 20, 30, 40, 50, 60, 70)
#: Label-file value of unlabelled background (ignored).
WHU_OPT_SAR_BACKGROUND = 0
#: Release folder of each modality and of the labels.
WHU_OPT_SAR_FOLDERS = dict(opt='optical', sar='sar', label='lbl')
#: Bands per modality, in stacking order (optical R, G, B, NIR; SAR one band).
WHU_OPT_SAR_BANDS = dict(opt=4, sar=1)
WHU_OPT_SAR_PALETTE = [[255, 255, 0], [255, 0, 0], [255, 128, 128], [0, 0, 255], [0, 160, 0], [128, 128, 128],
                       [160, 82, 45]]
_SUFFIXES = ('.tif', '.tiff')
_EXPECTED = ', '.join(f'{v} = {c}' for v, c in zip(WHU_OPT_SAR_LABEL_VALUES, WHU_OPT_SAR_CLASSES)) + \
    f', {WHU_OPT_SAR_BACKGROUND} = background (ignored)'


def whu_opt_sar_label_table() -> Dict[int, int]:
    """Label-file value -> training id (background -> 255)."""
    table = {v: i for i, v in enumerate(WHU_OPT_SAR_LABEL_VALUES)}
    table[WHU_OPT_SAR_BACKGROUND] = IGNORE_INDEX
    return table


def find_pairs(root: str, folders: Optional[Dict[str, str]] = None) -> List[Dict[str, str]]:
    """``[{modality: file, 'label': file}, ...]`` of every tile name under ``root/<folder>``, name order.

    Raises:
        FileNotFoundError: a folder is missing, or a tile name lacks one of its files (all such files
            are listed: nothing is dropped silently).
    """
    folders = dict(folders or WHU_OPT_SAR_FOLDERS)
    names: Dict[str, Dict[str, str]] = {}
    for key, folder in folders.items():
        path = osp.join(root, folder)
        if not osp.isdir(path):
            raise FileNotFoundError(f"WHU-OPT-SAR folder '{path}' ({key}) does not exist. Fix: point data_root / "
                                    f'the converter at the folder holding {sorted(set(folders.values()))}/')
        for file in sorted(os.listdir(path)):
            stem, ext = osp.splitext(file)
            if ext.lower() in _SUFFIXES:
                names.setdefault(stem, {})[key] = osp.join(path, file)
    missing = [osp.join(root, folders[k], f'{stem}.tif') for stem, files in sorted(names.items())
               for k in folders if k not in files]
    if missing:
        shown = '\n  '.join(missing[:10]) + (f'\n  ... and {len(missing) - 10} more' if len(missing) > 10 else '')
        raise FileNotFoundError(
            f'WHU-OPT-SAR under {root}: {len(missing)} file(s) missing for tiles that the other folders have '
            f'(every tile needs {", ".join(folders.values())}):\n  {shown}\nFix: restore them from the release, '
            f'or remove the orphaned files of those tiles.')
    return [names[s] for s in sorted(names)]


def _windows(length: int, crop: int, stride: int) -> List[int]:
    """Window starts covering ``0..length``; the last is moved back to end at the border (overlap) so no
    pixel is left out and every patch is full size."""
    starts = list(range(0, length - crop + 1, stride))
    if starts[-1] + crop < length:
        starts.append(length - crop)
    return starts


def tile_grid(height: int, width: int, crop_size: int, stride: int) -> List[Tuple[int, int]]:
    """(y, x) starts of the converter's patches on a ``height`` x ``width`` tile."""
    return [(y, x) for y in _windows(height, crop_size, stride) for x in _windows(width, crop_size, stride)]


def _write_window(path: str, src_path: str, data: np.ndarray, y: int, x: int) -> None:
    """Write ``data`` (h, w, C) as a GeoTIFF with ``src_path``'s CRS and dtype, on the window's grid."""
    import rasterio
    from rasterio.transform import Affine
    with rasterio.open(src_path) as src:
        t = src.transform  # the window's top-left corner, written out (rasterio's helper warns on `*`)
        profile = dict(driver='GTiff', height=data.shape[0], width=data.shape[1], count=data.shape[2],
                       dtype=src.dtypes[0], crs=src.crs, compress='deflate',
                       transform=Affine(t.a, t.b, t.c + t.a * x + t.b * y, t.d, t.e, t.f + t.d * x + t.e * y))
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(np.ascontiguousarray(data.transpose(2, 0, 1)).astype(profile['dtype'], copy=False))


def convert_whu_opt_sar(src: str, out: str, crop_size: int = 512, stride: Optional[int] = None,
                        val_every: int = 5, full_tiles: bool = True) -> Dict[str, int]:
    """Tile the release into ``crop_size`` patches, the same windows for optical, SAR and label.

    Writes ``out/{train,val}/{optical,sar,lbl}/<tile>_<y>_<x>.tif`` (georeferenced windows, label-file
    values kept: the dataset maps them) and, with ``full_tiles``, the whole validation tiles to
    ``out/val_tiles/...`` for sliding-window testing. Tile ``i`` (name order) is validation when
    ``i % val_every == val_every - 1`` (20 of the 100 tiles by default; see the module docstring).
    Every pair is checked first (co-registration, band counts, label values): errors name the file.

    Returns:
        Counts: tiles and patches per split.
    """
    stride = stride or crop_size
    if crop_size < 1 or stride < 1 or val_every < 2:
        raise ValueError(f'crop_size and stride must be positive and val_every >= 2, got {crop_size}, {stride}, '
                         f'{val_every}')
    pairs = find_pairs(src)
    if not pairs:
        raise FileNotFoundError(f'no WHU-OPT-SAR tiles (*.tif) under {src}/{{optical,sar,lbl}}')
    table = whu_opt_sar_label_table()
    counts = dict(train_tiles=0, val_tiles=0, train_patches=0, val_patches=0)
    modalities = list(WHU_OPT_SAR_BANDS)
    for index, files in enumerate(pairs):
        split = 'val' if index % val_every == val_every - 1 else 'train'
        img, _ = read_stacked(files, {**WHU_OPT_SAR_BANDS, 'label': 1})  # checks the label's grid too
        label = img[..., -1]
        check_label_values(files['label'], label, table, 'WHU-OPT-SAR', _EXPECTED)
        h, w = label.shape
        if h < crop_size or w < crop_size:
            raise DatasetFormatError(f"WHU-OPT-SAR tile '{files['opt']}' is {h}x{w}, smaller than crop_size "
                                     f'{crop_size}. Fix: use a smaller --crop-size.')
        bounds = np.cumsum([0] + [WHU_OPT_SAR_BANDS[m] for m in modalities] + [1])
        keys = modalities + ['label']
        dirs = {k: osp.join(out, split, WHU_OPT_SAR_FOLDERS[k]) for k in keys}
        for d in dirs.values():
            os.makedirs(d, exist_ok=True)
        stem = osp.splitext(osp.basename(files['opt']))[0]
        for y in _windows(h, crop_size, stride):
            for x in _windows(w, crop_size, stride):
                for k, lo, hi in zip(keys, bounds[:-1], bounds[1:]):
                    _write_window(osp.join(dirs[k], f'{stem}_{y}_{x}.tif'), files[k],
                                  img[y:y + crop_size, x:x + crop_size, lo:hi], y, x)
                counts[f'{split}_patches'] += 1
        counts[f'{split}_tiles'] += 1
        if full_tiles and split == 'val':
            for k in keys:
                folder = osp.join(out, 'val_tiles', WHU_OPT_SAR_FOLDERS[k])
                os.makedirs(folder, exist_ok=True)
                shutil.copy2(files[k], osp.join(folder, osp.basename(files[k])))
    print_log('WHU-OPT-SAR: ' + ', '.join(f'{k} {v}' for k, v in counts.items()), logger='current')
    return counts


@DATASETS.register_module()
class WHUOptSARDataset(LabelValuesMixin, BaseSegDataset):
    """WHU-OPT-SAR pairs read from ``data_root/<prefix>/{optical,sar,lbl}/*.tif`` (the release layout,
    or a split written by :func:`convert_whu_opt_sar`): ``img_path = {'opt': ..., 'sar': ...}``.

    Every tile name needs all three files (an error lists the missing ones); the sample count is
    logged. Label-file values map to training ids by :func:`whu_opt_sar_label_table` (checked once per
    file; ``label_map`` adds or changes entries). Load with ``mmrsfm.LoadStackedModalities`` and mmseg's
    ``LoadAnnotations``.

    Args:
        data_prefix: ``dict(img_path=<folder holding optical/, sar/, lbl/>)``, relative to ``data_root``.
            Defaults to ``dict(img_path='')`` (the release root).
        folders: ``{modality or 'label': subfolder}``. Defaults to :data:`WHU_OPT_SAR_FOLDERS`.
        label_map: Extra / changed ``{label-file value: class index}`` entries (255 = ignored).
        check_labels: Check label-file values. Defaults to True.
        **kwargs: ``BaseSegDataset`` arguments (``data_root``, ``pipeline``, ``test_mode``, ...).
    """
    METAINFO = dict(classes=WHU_OPT_SAR_CLASSES, palette=WHU_OPT_SAR_PALETTE)
    LABEL_DATASET = 'WHU-OPT-SAR'
    LABEL_EXPECTED = _EXPECTED

    def __init__(self, data_prefix: Optional[Dict[str, str]] = None, folders: Optional[Dict[str, str]] = None,
                 label_map: Optional[Dict[int, int]] = None, check_labels: bool = True, **kwargs) -> None:
        self.folders = dict(folders or WHU_OPT_SAR_FOLDERS)
        if 'label' not in self.folders or len(self.folders) < 2:
            raise ValueError(f"WHUOptSARDataset: folders needs 'label' and at least one modality, got {folders}")
        self.file_label_map, self.check_labels = label_map, check_labels
        super().__init__(data_prefix=dict(img_path='') if data_prefix is None else data_prefix,
                         img_suffix='.tif', seg_map_suffix='.tif', **kwargs)

    @classmethod
    def get_label_map(cls, new_classes: Optional[Sequence[str]] = None) -> Optional[Dict[int, int]]:
        """Label-file value -> training id, composed with mmseg's map for a class subset."""
        class_map = super().get_label_map(new_classes) or {}
        values = {v: class_map.get(i, i) for i, v in enumerate(WHU_OPT_SAR_LABEL_VALUES)}
        values[WHU_OPT_SAR_BACKGROUND] = IGNORE_INDEX
        return values

    def default_label_table(self) -> Dict[int, int]:
        return whu_opt_sar_label_table()

    def load_data_list(self) -> List[dict]:
        root = self.data_prefix.get('img_path') or self.data_root
        label_map = self.sample_label_map()
        data_list = []
        for files in find_pairs(root, self.folders):
            data_list.append(dict(img_path={k: v for k, v in files.items() if k != 'label'},
                                  seg_map_path=files['label'], label_map=label_map,
                                  reduce_zero_label=self.reduce_zero_label, seg_fields=[]))
        if not data_list:
            raise FileNotFoundError(f'WHUOptSARDataset: no *.tif tiles under {root}/{self.folders["label"]}')
        print_log(f'WHU-OPT-SAR {root}: {len(data_list)} samples', logger='current')
        return data_list
