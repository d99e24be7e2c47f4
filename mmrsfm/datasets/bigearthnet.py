"""BigEarthNet-S2 v1.0 multi-label scene classification in its released layout.

Layout (the ``BigEarthNet-S2-v1.0.tar.gz`` release, plus the split and exclusion CSVs published next
to it)::

    BigEarthNet-v1.0/<patch_name>/<patch_name>_B01.tif ... _B12.tif   12 single-band uint16 GeoTIFFs
    BigEarthNet-v1.0/<patch_name>/<patch_name>_labels_metadata.json   {"labels": [...], "coordinates",
                                                                      "projection", "tile_source",
                                                                      "acquisition_date"}
    train.csv / val.csv / test.csv                 one patch name per line, no header
    patches_with_cloud_and_shadow.csv              one patch name per line, no header
    patches_with_seasonal_snow.csv                 one patch name per line, no header

A patch has the 12 L2A bands :data:`BIGEARTHNET_BANDS` (no B10) at their native size: 120 x 120 for
the 10 m bands, 60 x 60 for the 20 m and 20 x 20 for the 60 m bands. ``labels`` holds original CORINE
Level-3 names (:data:`BIGEARTHNET_43_CLASSES`); the 19-class nomenclature
(:data:`BIGEARTHNET_19_CLASSES`) merges some of them and drops 11 (:data:`BIGEARTHNET_LABEL_CONVERSION`).

Where each fact was checked (public code; read, not copied):

* 43 names and their indices, the 19 names and ``label_conversion``: the official ``label_indices.json``
  of the BigEarthNet-19 models repo (git.tu-berlin.de/rsim/BigEarthNet-S2_19-classes_models), as
  copied in public projects (the 43-class part also in the 43-class repo copy
  ``mariaauslander/capstone_fall20_irrigation: data/raw/bigearthnet-models/label_indices.json``),
  and matching SpectralGPT's ``NEW_LABELS``/``GROUP_LABELS`` (``danfenghong/IEEE_TPAMI_SpectralGPT:
  util/datasets.py``). The official 19-class name is ``'Transitional woodland, shrub'`` (comma); the
  43-class name in the metadata is ``'Transitional woodland/shrub'``.
* Empty 19-label sets: the official ``tensorflow_utils.py`` of the 19-class repo builds the 19-class
  multi-hot as "any of the grouped original labels present" and keeps a patch whose vector is all
  zero; so does this dataset (and logs how many).
* Band names/order and file naming ``<patch>_<band>.tif``: ``band_names`` of the official
  ``tensorflow_utils.py`` (``mariaauslander/capstone_fall20_irrigation: data/raw/bigearthnet-models/``).
* Split CSVs read with ``csv.reader``, first field of every row a patch name (``prep_splits.py``, same
  repo); the exclusion CSVs are read as one name a line without header (``pd.read_csv(...,
  header=None)`` or ``readlines()``) by every third-party loader found (not checked against the files
  themselves). The official splits already leave out the cloud/shadow and snow patches (19-class
  repo README).
* One grid: the official 19-class TF models upsample the 20 m bands to 120 x 120 with
  ``tf.image.resize_bicubic`` (and leave the 60 m bands out); torchgeo's ``BigEarthNet`` reads every
  band with rasterio ``out_shape=(120, 120), resampling=Resampling.bilinear``.
  :class:`LoadBigEarthNetPatch` offers both (default bicubic, the official one).
* :data:`BIGEARTHNET_MEAN`/:data:`BIGEARTHNET_STD`: SpectralGPT's ``BigEarthNetFinetuneDataset.mean/std``
  (``util/datasets.py``), 12 values in :data:`BIGEARTHNET_BANDS` order; SpectralGPT reads its own
  pre-stacked 12-band ``<patch>.tif`` (not the release layout) and resizes with bicubic
  interpolation to ``--input_size`` (128 in its README commands; eval resizes to 146 and centre-crops).
"""
import csv
import difflib
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset

from mmrsfm.registry import DATASETS, TRANSFORMS
from .file_checks import DatasetFormatError
from .raster import canonical_band_name, read_bands
from .sentinel2 import S2_GSD

#: The 12 bands of a BigEarthNet-S2 patch, in the official order (ESA order without B10).
BIGEARTHNET_BANDS = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B11', 'B12')
#: Side of the 10 m grid every band is resampled to.
BIGEARTHNET_PATCH_SIZE = 120
#: Native side of each band file: 120 (10 m), 60 (20 m) or 20 (60 m) pixels.
BIGEARTHNET_BAND_SIZE: Dict[str, int] = {b: BIGEARTHNET_PATCH_SIZE * 10 // S2_GSD[b] for b in BIGEARTHNET_BANDS}
#: Folder of the patch folders in the release.
BIGEARTHNET_FOLDER = 'BigEarthNet-v1.0'
#: File names of the official lists.
BIGEARTHNET_SPLIT_FILES = {'train': 'train.csv', 'val': 'val.csv', 'test': 'test.csv'}
BIGEARTHNET_EXCLUDE_FILES = ('patches_with_cloud_and_shadow.csv', 'patches_with_seasonal_snow.csv')

#: The 43 original CORINE Level-3 labels, index = ``original_labels`` of the official label_indices.json.
BIGEARTHNET_43_CLASSES = (
    'Continuous urban fabric', 'Discontinuous urban fabric', 'Industrial or commercial units',
    'Road and rail networks and associated land', 'Port areas', 'Airports', 'Mineral extraction sites',
    'Dump sites', 'Construction sites', 'Green urban areas', 'Sport and leisure facilities',
    'Non-irrigated arable land', 'Permanently irrigated land', 'Rice fields', 'Vineyards',
    'Fruit trees and berry plantations', 'Olive groves', 'Pastures', 'Annual crops associated with permanent crops',
    'Complex cultivation patterns',
    'Land principally occupied by agriculture, with significant areas of natural vegetation',
    'Agro-forestry areas', 'Broad-leaved forest', 'Coniferous forest', 'Mixed forest', 'Natural grassland',
    'Moors and heathland', 'Sclerophyllous vegetation', 'Transitional woodland/shrub', 'Beaches, dunes, sands',
    'Bare rock', 'Sparsely vegetated areas', 'Burnt areas', 'Inland marshes', 'Peatbogs', 'Salt marshes',
    'Salines', 'Intertidal flats', 'Water courses', 'Water bodies', 'Coastal lagoons', 'Estuaries',
    'Sea and ocean')
#: The 19-class nomenclature, index = ``BigEarthNet-19_labels`` of the official label_indices.json.
BIGEARTHNET_19_CLASSES = (
    'Urban fabric', 'Industrial or commercial units', 'Arable land', 'Permanent crops', 'Pastures',
    'Complex cultivation patterns',
    'Land principally occupied by agriculture, with significant areas of natural vegetation',
    'Agro-forestry areas', 'Broad-leaved forest', 'Coniferous forest', 'Mixed forest',
    'Natural grassland and sparsely vegetated areas', 'Moors, heathland and sclerophyllous vegetation',
    'Transitional woodland, shrub', 'Beaches, dunes, sands', 'Inland wetlands', 'Coastal wetlands',
    'Inland waters', 'Marine waters')
#: ``label_conversion`` of the official label_indices.json: for each 19-class index, its 43-class indices.
BIGEARTHNET_LABEL_CONVERSION: Tuple[Tuple[int, ...], ...] = (
    (0, 1), (2, ), (11, 12, 13), (14, 15, 16, 18), (17, ), (19, ), (20, ), (21, ), (22, ), (23, ), (24, ),
    (25, 31), (26, 27), (28, ), (29, ), (33, 34), (35, 36), (38, 39), (40, 41, 42))
#: 43-class index -> 19-class index, or None for the 11 labels the 19-class nomenclature drops.
BIGEARTHNET_43_TO_19: Tuple[Optional[int], ...] = tuple(
    next((new for new, olds in enumerate(BIGEARTHNET_LABEL_CONVERSION) if old in olds), None)
    for old in range(len(BIGEARTHNET_43_CLASSES)))

# Per-band statistics of SpectralGPT's BigEarthNet fine-tuning (util/datasets.py,
# BigEarthNetFinetuneDataset.mean / .std), in BIGEARTHNET_BANDS order; L2A digital numbers.
BIGEARTHNET_MEAN = (1370.19151926, 1184.3824625, 1120.77120066, 1136.26026392, 1263.73947144, 1645.40315151,
                    1846.87040806, 1762.59530783, 1972.62420416, 582.72633433, 1732.16362238, 1247.91870117)
BIGEARTHNET_STD = (633.15169573, 650.2842772, 712.12507725, 965.23119807, 948.9819932, 1108.06650639,
                   1258.36394548, 1233.1492281, 1364.38688993, 472.37967789, 1310.36996126, 1087.6020813)

#: ``nomenclature`` choices of :class:`BigEarthNetDataset` -> class names.
NOMENCLATURES = {'19': BIGEARTHNET_19_CLASSES, '43': BIGEARTHNET_43_CLASSES}


def band_file(patch_dir: str, band: str, patch_name: Optional[str] = None) -> str:
    """Path of ``band`` of the patch folder ``patch_dir`` (``<patch>/<patch>_<band>.tif``)."""
    name = patch_name or osp.basename(osp.normpath(patch_dir))
    return osp.join(patch_dir, f'{name}_{band}.tif')


def metadata_file(patch_dir: str, patch_name: Optional[str] = None) -> str:
    """Path of the label json of the patch folder ``patch_dir``."""
    name = patch_name or osp.basename(osp.normpath(patch_dir))
    return osp.join(patch_dir, f'{name}_labels_metadata.json')


def read_patch_list(path: str) -> List[str]:
    """Patch names of an official split or exclusion CSV: the first field of every non-empty row."""
    if not osp.isfile(path):
        raise FileNotFoundError(f"patch list '{path}' does not exist. Fix: download it with the release "
                                f'(official splits: {sorted(BIGEARTHNET_SPLIT_FILES.values())}, exclusion '
                                f'lists: {list(BIGEARTHNET_EXCLUDE_FILES)}) or correct the path.')
    with open(path, newline='') as f:
        return [row[0].strip() for row in csv.reader(f) if row and row[0].strip()]


def to_nomenclature(labels: Sequence[str], nomenclature: str = '19') -> List[int]:
    """Sorted class indices of original label names in ``nomenclature`` ('19' or '43'); original labels the
    19-class nomenclature drops give nothing. Raises ``ValueError`` for a name outside the 43."""
    index = {name: i for i, name in enumerate(BIGEARTHNET_43_CLASSES)}
    unknown = [lb for lb in labels if lb not in index]
    if unknown:
        raise ValueError(f'labels {unknown} are not BigEarthNet original labels (BIGEARTHNET_43_CLASSES)')
    olds = {index[lb] for lb in labels}
    if nomenclature == '43':
        return sorted(olds)
    return sorted({BIGEARTHNET_43_TO_19[o] for o in olds if BIGEARTHNET_43_TO_19[o] is not None})


@DATASETS.register_module()
class BigEarthNetDataset(BaseDataset):
    """BigEarthNet-S2 v1.0 patches with multi-label targets (mmpretrain format: ``gt_label`` is the
    sorted list of class indices), read from the released folder layout.

    Each item: ``img_path`` (the patch folder; load it with :class:`LoadBigEarthNetPatch`),
    ``patch_name`` and ``gt_label``. ``metainfo['classes']`` are the 19 or 43 class names. A patch whose
    original labels all map to nothing in the 19-class nomenclature keeps an empty label set, as in the
    official code; their count is logged, as is the count of excluded patches.

    Args:
        data_root: Root folder; relative ``data_prefix``, ``split_file`` and ``exclude_files`` are
            joined to it. Defaults to ''.
        data_prefix: Folder of the patch folders. Defaults to ``'BigEarthNet-v1.0'``.
        split_file: Official split CSV (``train.csv``, ``val.csv``, ``test.csv``). Defaults to None
            (every patch folder under ``data_prefix``, sorted by name).
        exclude_files: Exclusion CSVs (e.g. :data:`BIGEARTHNET_EXCLUDE_FILES`); their patches are removed.
            Defaults to ().
        nomenclature: ``'19'`` (default) or ``'43'`` classes.
        check_bands: Check at init that every patch has its 12 band files (existence only; sizes are
            checked when a patch is loaded). Defaults to False.
        **kwargs: Other :class:`mmpretrain.datasets.BaseDataset` arguments (``pipeline``, ``test_mode``, ...).

    Raises:
        FileNotFoundError: A patch list, the patch root, a listed patch folder, a metadata json or
            (with ``check_bands``) a band file is missing.
        DatasetFormatError: A metadata json is not JSON, has no ``labels`` list, or names a label
            outside the 43.
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: str = BIGEARTHNET_FOLDER,
                 split_file: Optional[str] = None,
                 exclude_files: Sequence[str] = (),
                 nomenclature: str = '19',
                 check_bands: bool = False,
                 **kwargs) -> None:
        if str(nomenclature) not in NOMENCLATURES:
            raise ValueError(f'nomenclature must be one of {sorted(NOMENCLATURES)}, got {nomenclature!r}')
        if 'classes' in kwargs or 'classes' in (kwargs.get('metainfo') or {}):
            # the class indices are fixed by the official label_indices.json; renaming would mislabel
            raise ValueError("BigEarthNetDataset sets its classes from `nomenclature`; do not pass `classes`")
        self.nomenclature = str(nomenclature)
        self.check_bands = check_bands
        self.exclude_files = [f if osp.isabs(f) or not data_root else osp.join(data_root, f)
                              for f in exclude_files]
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=NOMENCLATURES[self.nomenclature])
        super().__init__(ann_file=split_file or '', metainfo=metainfo, data_root=data_root,
                         data_prefix=data_prefix, **kwargs)

    def _patch_names(self, root: str) -> List[str]:
        """Patch names of the split file, or every patch folder under ``root``."""
        if not osp.isdir(root):
            raise FileNotFoundError(f"BigEarthNet patch folder root '{root}' does not exist. Fix: extract "
                                    f"BigEarthNet-S2-v1.0.tar.gz there or set data_root/data_prefix "
                                    f"(the release folder is '{BIGEARTHNET_FOLDER}').")
        if self.ann_file:
            return read_patch_list(self.ann_file)
        return sorted(n for n in os.listdir(root) if osp.isdir(osp.join(root, n)))

    def _labels(self, folder: str, name: str) -> List[str]:
        """Original label names of one patch from its metadata json."""
        path = metadata_file(folder, name)
        if not osp.isfile(path):
            raise FileNotFoundError(f"patch '{name}' has no metadata file '{path}'. Fix: re-extract this patch "
                                    f'folder from the release.')
        try:
            with open(path) as f:
                meta = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DatasetFormatError(f"'{path}' is not valid JSON ({e}). Fix: re-extract this patch folder "
                                     f'from the release.') from e
        labels = meta.get('labels') if isinstance(meta, dict) else None
        if not isinstance(labels, list) or not all(isinstance(lb, str) for lb in labels):
            raise DatasetFormatError(f"'{path}' has no 'labels' list of names (keys: "
                                     f"{sorted(meta) if isinstance(meta, dict) else type(meta).__name__}). "
                                     f'Fix: re-extract this patch folder from the release.')
        for label in labels:
            if label not in BIGEARTHNET_43_CLASSES:
                close = difflib.get_close_matches(label, BIGEARTHNET_43_CLASSES, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ''
                raise DatasetFormatError(
                    f"'{path}': patch '{name}' has label '{label}'{hint}, which is not one of the 43 BigEarthNet "
                    f'original labels (BIGEARTHNET_43_CLASSES in mmrsfm/datasets/bigearthnet.py, from the '
                    f'official label_indices.json). Fix: correct the label in this json.')
        return labels

    def load_data_list(self) -> List[dict]:
        """Read the patch list, remove excluded patches and read every patch's labels."""
        root = self.data_prefix['img_path']
        names = self._patch_names(root)
        source = f"'{self.ann_file}'" if self.ann_file else f"the folders of '{root}'"
        for path in self.exclude_files:
            excluded = set(read_patch_list(path))
            before = len(names)
            names = [n for n in names if n not in excluded]
            print_log(f'{type(self).__name__}: removed {before - len(names)} of {before} patches of {source} '
                      f"listed in '{osp.basename(path)}'", logger='current')
        data_list, empty, dropped = [], 0, 0
        for name in names:
            folder = osp.join(root, name)
            if not osp.isdir(folder):
                raise FileNotFoundError(f"patch folder '{folder}' (listed in {source}) does not exist. Fix: "
                                        f'extract the full release into {root!r}, or use the split file that '
                                        f'goes with this data.')
            labels = self._labels(folder, name)
            gt_label = to_nomenclature(labels, self.nomenclature)
            if not gt_label:
                empty += 1
            elif self.nomenclature == '19' and any(
                    BIGEARTHNET_43_TO_19[BIGEARTHNET_43_CLASSES.index(lb)] is None for lb in labels):
                dropped += 1
            if self.check_bands:
                for band in BIGEARTHNET_BANDS:
                    if not osp.isfile(band_file(folder, band, name)):
                        raise FileNotFoundError(f"patch '{name}' is missing its band file "
                                                f"'{band_file(folder, band, name)}'. Fix: re-extract this "
                                                f'patch folder from the release.')
            data_list.append(dict(img_path=folder, patch_name=name, gt_label=gt_label))
        if empty or dropped:
            print_log(f'{type(self).__name__}: {empty} of {len(data_list)} patches have no label in the '
                      f'{self.nomenclature}-class nomenclature (kept with an empty label set, as the official '
                      f'code does); {dropped} more lost some labels that it drops', logger='current')
        print_log(f'{type(self).__name__}: {len(data_list)} patches from {source}', logger='current')
        return data_list

    def get_cat_ids(self, idx: int) -> List[int]:
        """Class indices of sample ``idx`` (multi-label)."""
        return list(self.get_data_info(idx)['gt_label'])


@TRANSFORMS.register_module()
class LoadBigEarthNetPatch(BaseTransform):
    """Load the band files of a BigEarthNet-S2 patch folder (``results['img_path']``) onto the 10 m grid.

    Each band file must have its native size (:data:`BIGEARTHNET_BAND_SIZE`: 120, 60 or 20 pixels); 20 m
    and 60 m bands are upsampled to 120 x 120 and all are stacked in ``bands`` order.

    Added keys: ``img`` (float32 120 x 120 x C), ``img_shape``, ``ori_shape``, ``band_names``, ``crs``
    and ``geo_transform`` (of the 10 m grid).

    Args:
        bands: Band names in output order (Sentinel-2 names matched loosely: ``B1`` = ``B01``). Defaults
            to :data:`BIGEARTHNET_BANDS`, which is also SpectralGPT's 12-band order.
        interpolation: ``'bicubic'`` (the official BigEarthNet-19 TF models), ``'bilinear'`` (torchgeo)
            or ``'nearest'``. Defaults to ``'bicubic'``.

    Raises:
        FileNotFoundError: A band file is missing (names the file).
        DatasetFormatError: A band file is unreadable, has more than one band, or has the wrong size.
    """

    INTERPOLATIONS = {'bicubic': cv2.INTER_CUBIC, 'bilinear': cv2.INTER_LINEAR, 'nearest': cv2.INTER_NEAREST}

    def __init__(self, bands: Sequence[str] = BIGEARTHNET_BANDS, interpolation: str = 'bicubic') -> None:
        self.bands = [canonical_band_name(b) for b in bands]
        unknown = [b for b, c in zip(bands, self.bands) if c not in BIGEARTHNET_BANDS]
        if unknown or not self.bands:
            raise ValueError(f'bands {list(unknown) or list(bands)} are not BigEarthNet-S2 bands; choose from '
                             f'{BIGEARTHNET_BANDS} (B10 is not in the L2A release)')
        if interpolation not in self.INTERPOLATIONS:
            raise ValueError(f'interpolation must be one of {sorted(self.INTERPOLATIONS)}, got {interpolation!r}')
        self.interpolation = interpolation

    def _read(self, path: str, band: str) -> Tuple[np.ndarray, Optional[str], Tuple[float, ...]]:
        """One band on the 10 m grid, the file's CRS and its geotransform rescaled to 10 m pixels."""
        raster = read_bands(path)  # missing / unreadable file -> error naming it
        expected = BIGEARTHNET_BAND_SIZE[band]
        height, width, count = raster.data.shape
        if count != 1 or (height, width) != (expected, expected):
            raise DatasetFormatError(
                f"'{path}' is {height} x {width} x {count} but BigEarthNet-S2 band {band} ({S2_GSD[band]} m) must be "
                f'{expected} x {expected} x 1. Fix: re-extract this patch folder from the release (band files '
                f'are not to be resampled or stacked beforehand).')
        data = raster.data[..., 0].astype(np.float32)
        scale = expected / BIGEARTHNET_PATCH_SIZE
        if expected != BIGEARTHNET_PATCH_SIZE:
            side = BIGEARTHNET_PATCH_SIZE
            data = cv2.resize(data, (side, side), interpolation=self.INTERPOLATIONS[self.interpolation])
        a, b, c, d, e, f = raster.transform
        return data, raster.crs, (a * scale, b * scale, c, d * scale, e * scale, f)

    def transform(self, results: dict) -> dict:
        """Read, upsample and stack the bands of ``results['img_path']``."""
        folder = results['img_path']
        name = results.get('patch_name') or osp.basename(osp.normpath(folder))
        planes, crs, geo = [], None, None
        for band in self.bands:
            data, crs, geo = self._read(band_file(folder, band, name), band)
            planes.append(data)
        img = np.stack(planes, axis=-1)
        results.update(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], band_names=list(self.bands),
                       crs=crs, geo_transform=geo)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(bands={self.bands}, interpolation={self.interpolation!r})'
