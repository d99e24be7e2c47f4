"""Single-label scene classification in the released on-disk layouts: one folder per class.

Layouts read as released::

    AID/<Class>/<class>_<n>.jpg                          # AIDDataset, 30 classes, 600 x 600 JPEG
    NWPU-RESISC45/<class>/<class>_<nnn>.jpg              # NWPUResisc45Dataset, 45 classes, 256 x 256 JPEG
    UCMerced_LandUse/Images/<class>/<class><nn>.tif      # UCMercedDataset, 21 classes, ~256 x 256 TIFF
    EuroSAT/2750/<Class>/<Class>_<n>.jpg                 # EuroSATDataset(release='rgb'), 64 x 64 JPEG
    EuroSATallBands/ds/images/remote_sensing/otherDatasets/sentinel_2/tif/<Class>/<Class>_<n>.tif
                                                         # EuroSATDataset(release='ms'), 13-band uint16

AID, NWPU-RESISC45 and UC Merced ship no split: papers draw a per-class random share for training
(e.g. AID 20 % / 50 %, NWPU 10 % / 20 %, UCM 80 %) and test on the rest.
:func:`stratified_split` (``tools/dataset_converters/scene_split.py``) writes such lists.

Split files (``split_file``) hold one image per line, relative to the image root: ``<ClassFolder>/<file>``;
the class is the folder. EuroSAT lists are the ``eurosat-{train,val,test}.txt`` files of Neumann et al.
("In-domain representation learning for remote sensing", 2019; 16200 / 5400 / 5400 file names such
as ``AnnualCrop_1.jpg``), which torchgeo also uses; see :class:`EuroSATDataset` for the formats it accepts.

The samples are ``dict(img_path=..., gt_label=int)`` of an ``mmpretrain.datasets.BaseDataset``, so
mmpretrain's pipelines, metrics and samplers (``get_gt_labels``, ``get_cat_ids``) work unchanged.
"""
import logging
import math
import os
import os.path as osp
import zlib
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset

from mmrsfm.registry import DATASETS
from .file_checks import IMG_EXTENSIONS, DatasetFormatError, image_size, missing_image, unreadable_image

__all__ = ['SceneFolderDataset', 'AIDDataset', 'NWPUResisc45Dataset', 'UCMercedDataset', 'EuroSATDataset',
           'AID_CLASSES', 'NWPU_RESISC45_CLASSES', 'UCMERCED_CLASSES', 'EUROSAT_CLASSES', 'EUROSAT_MS_BANDS',
           'EUROSAT_MS_MEAN', 'EUROSAT_MS_STD', 'EUROSAT_RGB_DIR', 'EUROSAT_MS_DIR', 'EUROSAT_SPLIT_FILES',
           'scan_class_folders', 'stratified_split', 'write_split_files']

#: AID folder names (label order = sorted). Checked against biasvariancelabs/aitlas ``aitlas/datasets/aid.py``
#: (``LABELS``), which reads the release folders as they are.
AID_CLASSES = ('Airport', 'BareLand', 'BaseballField', 'Beach', 'Bridge', 'Center', 'Church', 'Commercial',
               'DenseResidential', 'Desert', 'Farmland', 'Forest', 'Industrial', 'Meadow', 'MediumResidential',
               'Mountain', 'Park', 'Parking', 'Playground', 'Pond', 'Port', 'RailwayStation', 'Resort', 'River',
               'School', 'SparseResidential', 'Square', 'Stadium', 'StorageTanks', 'Viaduct')
#: NWPU-RESISC45 folder names. Checked against biasvariancelabs/aitlas ``aitlas/datasets/resisc45.py``.
NWPU_RESISC45_CLASSES = (
    'airplane', 'airport', 'baseball_diamond', 'basketball_court', 'beach', 'bridge', 'chaparral', 'church',
    'circular_farmland', 'cloud', 'commercial_area', 'dense_residential', 'desert', 'forest', 'freeway',
    'golf_course', 'ground_track_field', 'harbor', 'industrial_area', 'intersection', 'island', 'lake', 'meadow',
    'medium_residential', 'mobile_home_park', 'mountain', 'overpass', 'palace', 'parking_lot', 'railway',
    'railway_station', 'rectangular_farmland', 'river', 'roundabout', 'runway', 'sea_ice', 'ship', 'snowberg',
    'sparse_residential', 'stadium', 'storage_tank', 'tennis_court', 'terrace', 'thermal_power_station', 'wetland')
#: UC Merced Land Use folder names. Checked against microsoft/torchgeo ``torchgeo/datasets/ucmerced.py``.
UCMERCED_CLASSES = ('agricultural', 'airplane', 'baseballdiamond', 'beach', 'buildings', 'chaparral',
                    'denseresidential', 'forest', 'freeway', 'golfcourse', 'harbor', 'intersection',
                    'mediumresidential', 'mobilehomepark', 'overpass', 'parkinglot', 'river', 'runway',
                    'sparseresidential', 'storagetanks', 'tenniscourt')
#: EuroSAT folder names; label order as torchgeo's ``class_name_to_label_idx`` and the label column of the
#: official SpectralGPT list ``txt_file/train_euro_result.txt`` (alphabetical).
EUROSAT_CLASSES = ('AnnualCrop', 'Forest', 'HerbaceousVegetation', 'Highway', 'Industrial', 'Pasture',
                   'PermanentCrop', 'Residential', 'River', 'SeaLake')
#: Band names of the EuroSAT multispectral GeoTIFFs in **file order**: B8A is the 13th band, not the 9th.
#: Sources: phelber/EuroSAT issue #7 (closed by the authors without objection) and the torchgeo fix
#: (torchgeo/torchgeo issue #2458, PR #2480: ``all_band_names`` ends with 'B8A'). The files carry no
#: band descriptions as far as we know (torchgeo and geo-bench select bands by index), so pass these as
#: ``LoadMultiBandImage(band_names=EUROSAT_MS_BANDS, ...)``; descriptions in a file would take precedence.
EUROSAT_MS_BANDS = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B09', 'B10', 'B11', 'B12', 'B8A')
#: Per-band mean / std of the official SpectralGPT EuroSAT fine-tuning (danfenghong/IEEE_TPAMI_SpectralGPT,
#: ``util/datasets.py``, class ``EuroSat``; it z-scores with ``transforms.Normalize(mean, std)``). Indexed by
#: **file position** (the loader reads the tif with ``skimage.io.imread``), all 13 bands; SpectralGPT then
#: drops file index 10 (``--dropped_bands 10``), which under the file order above is B11, not B10 -- the
#: values at index 10 (582.7 / 472.4) also look like B09 statistics. Recompute them if that matters to you.
EUROSAT_MS_MEAN = (752.40087073, 884.29673756, 1144.16202635, 1297.47289228, 1624.90992062, 2194.6423161,
                   2422.21248945, 2517.76053101, 2581.64687018, 2645.51888987, 582.72633433, 2368.51236873,
                   1805.06846033)
EUROSAT_MS_STD = (1108.02887453, 1155.15170768, 1183.6292542, 1368.11351514, 1370.265037, 1355.55390699,
                  1416.51487101, 1474.78900051, 1439.3086061, 1582.28010962, 472.37967789, 1455.52084939,
                  1343.48379601)
#: Image roots of the two EuroSAT releases, relative to where each zip is extracted (torchgeo's ``base_dir``).
EUROSAT_RGB_DIR = '2750'
EUROSAT_MS_DIR = 'ds/images/remote_sensing/otherDatasets/sentinel_2/tif'
#: Neumann et al.'s list names (storage.googleapis.com/remote_sensing_representations/), as torchgeo stores them.
EUROSAT_SPLIT_FILES = dict(train='eurosat-train.txt', val='eurosat-val.txt', test='eurosat-test.txt')


def _is_image(name: str) -> bool:
    return osp.splitext(name)[1].lower() in IMG_EXTENSIONS


def scan_class_folders(img_root: str) -> Tuple[Dict[str, List[str]], Counter]:
    """Images per class folder of ``img_root``: ``({folder: [file, ...] sorted}, skipped)``.

    ``skipped`` counts what is not an image of a class folder, by kind (``'.txt'``, ``'<no extension>'``,
    ``'file in the image root'``), so callers can log it. Hidden entries (``.DS_Store``) count as skipped.

    Raises:
        FileNotFoundError: ``img_root`` is not a folder.
    """
    if not osp.isdir(img_root):
        raise FileNotFoundError(f"image root '{img_root}' does not exist. Fix: set data_root / data_prefix to the "
                                f'folder holding one sub-folder per class (as extracted from the release).')
    per_class: Dict[str, List[str]] = {}
    skipped: Counter = Counter()
    for entry in sorted(os.listdir(img_root)):
        path = osp.join(img_root, entry)
        if not osp.isdir(path):
            skipped['file in the image root'] += 1
            continue
        files = []
        for name in sorted(os.listdir(path)):
            if _is_image(name) and osp.isfile(osp.join(path, name)):
                files.append(name)
            else:
                skipped[osp.splitext(name)[1].lower() or '<no extension>'] += 1
        per_class[entry] = files
    return per_class, skipped


def _round_half_up(x: float) -> int:
    # Python's round() rounds halves to even (round(2.5) == 2); a split protocol reads better with
    # halves going up, and the epsilon absorbs float error such as 0.29 * 100 = 28.999999999999996.
    return int(math.floor(x + 0.5 + 1e-9))


def stratified_split(samples: Dict[str, Sequence[str]], ratio: float, seed: int = 0,
                     val_ratio: float = 0.0) -> Dict[str, List[str]]:
    """Per-class random split (the AID / NWPU-RESISC45 / UC Merced protocol).

    Each class ``c`` with ``n_c`` images gets exactly ``round(n_c * ratio)`` train and
    ``round(n_c * val_ratio)`` val images, rounding halves up (so 0.5 of 5 images is 3), and the rest
    are test. The draw of each class depends only on ``seed`` and the class name, so adding or
    removing a class does not change the other classes' splits.

    Args:
        samples: ``{class folder: [file name, ...]}`` (see :func:`scan_class_folders`).
        ratio: Train share per class, in (0, 1).
        seed: Random seed. Defaults to 0.
        val_ratio: Val share per class, taken from what is not train. Defaults to 0 (no val).

    Returns:
        ``{'train': [...], 'val': [...], 'test': [...]}``, each a sorted list of ``<class>/<file>`` lines.
    """
    if not 0 < ratio < 1:
        raise ValueError(f'ratio must be in (0, 1), got {ratio}')
    if not 0 <= val_ratio < 1 - ratio + 1e-9:
        raise ValueError(f'val_ratio must be in [0, 1 - ratio], got {val_ratio} with ratio {ratio}')
    out: Dict[str, List[str]] = dict(train=[], val=[], test=[])
    for cls in sorted(samples):
        files = sorted(samples[cls])
        n_train, n_val = _round_half_up(len(files) * ratio), _round_half_up(len(files) * val_ratio)
        n_val = min(n_val, len(files) - n_train)
        rng = np.random.default_rng([seed, zlib.crc32(cls.encode('utf-8'))])
        order = rng.permutation(len(files))
        for split, idx in (('train', order[:n_train]), ('val', order[n_train:n_train + n_val]),
                           ('test', order[n_train + n_val:])):
            out[split] += [f'{cls}/{files[i]}' for i in idx]
    return {split: sorted(lines) for split, lines in out.items()}


def write_split_files(splits: Dict[str, List[str]], out_dir: str, ratio: float) -> Dict[str, str]:
    """Write ``{train,val,test}_{pct}.txt`` (``pct`` = train percent, e.g. ``train_20.txt``) into ``out_dir``;
    an empty val split is not written. Returns ``{split: path}``."""
    os.makedirs(out_dir, exist_ok=True)
    pct = f'{ratio * 100:g}'
    paths = {}
    for split, lines in splits.items():
        if split == 'val' and not lines:
            continue
        paths[split] = osp.join(out_dir, f'{split}_{pct}.txt')
        with open(paths[split], 'w') as f:
            f.write(''.join(line + '\n' for line in lines))
    return paths


@DATASETS.register_module()
class SceneFolderDataset(BaseDataset):
    """Single-label scenes stored as ``<image root>/<class folder>/<image>``.

    The class list is ``metainfo=dict(classes=...)`` (or the subclass's release list); without one it is
    the sorted folder names. Labels are indices into it. Without ``split_file`` every image is a sample.

    Errors name the file or folder and the fix: image root missing; a class folder without images; a
    folder that is not a class (when classes are given); a class without a folder; a split-file line
    naming a missing file or a folder that is not a class (with its line number); with
    ``check_images=True``, an image that cannot be opened. Files that are not images (by extension)
    are counted and logged, never used.

    Args:
        data_root: Dataset root; ``data_prefix`` and a relative ``split_file`` are joined to it.
        data_prefix: Image root (the folder holding the class folders), relative to ``data_root``.
        split_file: Text file of ``<ClassFolder>/<file>`` lines, relative to the image root. Defaults to None.
        check_images: Open every image's header when loading (slow on a full release). Defaults to False.
        **kwargs: ``mmpretrain.datasets.BaseDataset`` arguments (``metainfo``, ``pipeline``, ``test_mode``, ...).
    """

    def __init__(self, data_root: str = '', data_prefix: str = '', split_file: Optional[str] = None,
                 check_images: bool = False, **kwargs) -> None:
        if split_file is not None and data_root and not osp.isabs(split_file):
            split_file = osp.join(data_root, split_file)
        self.split_file, self.check_images = split_file, check_images
        super().__init__(ann_file='', data_root=data_root, data_prefix=data_prefix, **kwargs)

    # -- hooks for subclasses -------------------------------------------------------------------------------

    def _check_image(self, path: str) -> None:
        """Raise naming ``path`` when it cannot be opened (used with ``check_images=True``)."""
        image_size(path)

    def _parse_split_line(self, line: str, lineno: int) -> Tuple[str, str, Optional[int]]:
        """``(class folder, file name, label or None)`` of one split-file line."""
        parts = line.replace('\\', '/').split('/')
        if len(parts) != 2 or not all(parts):
            raise DatasetFormatError(f"'{self.split_file}' line {lineno}: {line!r} is not '<ClassFolder>/<file>'. "
                                     f'Fix: list one image per line relative to the image root '
                                     f"'{self.data_prefix['img_path']}' (tools/dataset_converters/scene_split.py "
                                     f'writes such lists).')
        return parts[0], parts[1], None

    # -- loading --------------------------------------------------------------------------------------------

    def load_data_list(self) -> List[dict]:
        img_root = self.data_prefix['img_path']
        per_class, skipped = scan_class_folders(img_root)
        name = type(self).__name__
        classes = self._metainfo.get('classes')
        if classes is None:  # generic folder dataset: the folders are the classes
            classes = tuple(sorted(per_class))
            self._metainfo['classes'] = classes
        classes = tuple(classes)
        unknown = sorted(set(per_class) - set(classes))
        if unknown:
            raise DatasetFormatError(
                f"{name}: folder(s) {[osp.join(img_root, u) for u in unknown]} are not classes {classes}. Fix: "
                f'move them out of the image root, or set metainfo=dict(classes=...) to the classes you train on.')
        absent = [c for c in classes if c not in per_class]
        if absent:
            raise FileNotFoundError(
                f"{name}: class(es) {absent} have no folder under '{img_root}'. Fix: re-extract the release "
                f'into the image root, or set metainfo=dict(classes=...) to the classes you have.')
        empty = [osp.join(img_root, c) for c in classes if not per_class[c]]
        if empty:
            raise DatasetFormatError(
                f"{name}: class folder(s) {empty} hold no images ({', '.join(IMG_EXTENSIONS)}). Fix: re-extract "
                f'those classes from the release, or leave the classes out with metainfo=dict(classes=...).')
        label_of = {c: i for i, c in enumerate(classes)}
        if self.split_file is None:
            pairs = [(c, f) for c in classes for f in per_class[c]]
        else:
            pairs = self._read_split_file(img_root, label_of, {c: set(fs) for c, fs in per_class.items()})
        data_list = []
        for cls, file_name in pairs:
            path = osp.join(img_root, cls, file_name)
            if self.check_images:
                self._check_image(path)
            data_list.append(dict(img_path=path, gt_label=label_of[cls]))
        counts = Counter(d['gt_label'] for d in data_list)
        source = f"split file '{self.split_file}'" if self.split_file else f"'{img_root}'"
        message = (f'{name}: {len(data_list)} images of {len(classes)} classes from {source} '
                   f'(per class min {min(counts.values(), default=0)}, max {max(counts.values(), default=0)})')
        print_log(message, logger='current')
        if skipped:
            print_log(f"{name}: skipped {sum(skipped.values())} entries under '{img_root}' that are not images of "
                      f'a class folder: {dict(skipped)}', logger='current', level=logging.WARNING)
        return data_list

    def _read_split_file(self, img_root: str, label_of: Dict[str, int],
                         present: Dict[str, set]) -> List[Tuple[str, str]]:
        if not osp.isfile(self.split_file):
            raise FileNotFoundError(f"split file '{self.split_file}' does not exist. Fix: give its path (relative "
                                    f'to data_root), or write one with tools/dataset_converters/scene_split.py.')
        pairs, seen = [], {}
        with open(self.split_file) as f:
            for lineno, raw in enumerate(f, start=1):
                line = raw.strip()
                if not line:
                    continue
                cls, file_name, label = self._parse_split_line(line, lineno)
                if cls not in label_of:
                    raise DatasetFormatError(
                        f"'{self.split_file}' line {lineno}: {line!r} names class folder '{cls}', which is not a "
                        f'class {tuple(label_of)}. Fix: correct the line, or the classes in metainfo.')
                if label is not None and label != label_of[cls]:
                    raise DatasetFormatError(
                        f"'{self.split_file}' line {lineno}: label {label} but '{cls}' is class {label_of[cls]} "
                        f'of {tuple(label_of)}. Fix: the list was made with another class order; set '
                        f'metainfo=dict(classes=...) to it, or drop the label column.')
                if file_name not in present.get(cls, ()):
                    raise FileNotFoundError(
                        f"'{self.split_file}' line {lineno}: image '{osp.join(img_root, cls, file_name)}' does "
                        f'not exist. Fix: the list belongs to another copy/version of the dataset; point '
                        f'data_prefix at the folder holding it, or regenerate the list from these images.')
                if (cls, file_name) in seen:
                    raise DatasetFormatError(
                        f"'{self.split_file}' lines {seen[(cls, file_name)]} and {lineno} both name "
                        f"'{cls}/{file_name}'. Fix: list each image once (a repeated line doubles its weight).")
                seen[(cls, file_name)] = lineno
                pairs.append((cls, file_name))
        if not pairs:
            raise DatasetFormatError(f"split file '{self.split_file}' lists no image. Fix: regenerate it.")
        return pairs


@DATASETS.register_module()
class AIDDataset(SceneFolderDataset):
    """AID (Xia et al., "AID: A benchmark data set for performance evaluation of aerial scene
    classification", TGRS 2017): 10,000 Google Earth images of 600 x 600 px (JPEG, 0.5-8 m), 30 classes of
    220-420 images, in ``AID/<Class>/`` (:data:`AID_CLASSES`). No official split: 20 % / 50 % train per class."""
    METAINFO = dict(classes=AID_CLASSES)


@DATASETS.register_module()
class NWPUResisc45Dataset(SceneFolderDataset):
    """NWPU-RESISC45 (Cheng et al., Proc. IEEE 2017): 31,500 images of 256 x 256 px (JPEG), 45 classes of
    700, in ``NWPU-RESISC45/<class>/<class>_NNN.jpg`` (:data:`NWPU_RESISC45_CLASSES`). No official split:
    10 % / 20 % train per class."""
    METAINFO = dict(classes=NWPU_RESISC45_CLASSES)


@DATASETS.register_module()
class UCMercedDataset(SceneFolderDataset):
    """UC Merced Land Use (Yang & Newsam, 2010): 2,100 RGB TIFFs, 21 classes of 100, in
    ``UCMerced_LandUse/Images/<class>/<class>NN.tif`` (:data:`UCMERCED_CLASSES`). Most are 256 x 256 but
    a few are not (e.g. 256 x 247), so put a resize in the pipeline; they are not rejected here.
    No official split: usually 80 % train per class. ``data_prefix`` defaults to ``'Images'``."""
    METAINFO = dict(classes=UCMERCED_CLASSES)

    def __init__(self, data_root: str = '', data_prefix: str = 'Images', **kwargs) -> None:
        super().__init__(data_root=data_root, data_prefix=data_prefix, **kwargs)


@DATASETS.register_module()
class EuroSATDataset(SceneFolderDataset):
    """EuroSAT (Helber et al., JSTARS 2019): 27,000 Sentinel-2 patches of 64 x 64 px, 10 classes
    (:data:`EUROSAT_CLASSES`), as two releases:

    * ``release='rgb'``: ``<data_root>/2750/<Class>/<Class>_<n>.jpg`` (EuroSAT.zip);
    * ``release='ms'``: ``<data_root>/ds/images/remote_sensing/otherDatasets/sentinel_2/tif/<Class>/<Class>_<n>.tif``
      (EuroSATallBands.zip), 13-band uint16 GeoTIFFs in the band order :data:`EUROSAT_MS_BANDS` (B8A last).
      Load them with ``dict(type='mmrsfm.LoadMultiBandImage', band_names=EUROSAT_MS_BANDS,
      drop_bands=('B10', ))`` (12 bands, as SpectralGPT) and normalise with your statistics or
      :data:`EUROSAT_MS_MEAN` / :data:`EUROSAT_MS_STD` (see their caveat). A file with another band count
      fails there, naming the file and both counts; ``check_images=True`` checks every file up front.

    ``split_file`` lines name an image by its file name; the folder and extension are derived from it, so
    one list serves both releases: Neumann et al.'s ``eurosat-train.txt`` (``AnnualCrop_1.jpg``), paths such
    as ``AnnualCrop/AnnualCrop_1.tif``, and the official SpectralGPT lists (``tif/Residential/Residential_2029.tif
    7``: path, whitespace, label, checked against :data:`EUROSAT_CLASSES`).

    Args:
        data_root: Where the release zip was extracted.
        release: ``'rgb'`` or ``'ms'``. Defaults to ``'rgb'``.
        data_prefix: Image root; defaults to the release's (:data:`EUROSAT_RGB_DIR` / :data:`EUROSAT_MS_DIR`).
        **kwargs: :class:`SceneFolderDataset` arguments.
    """
    METAINFO = dict(classes=EUROSAT_CLASSES)
    RELEASES = dict(rgb=(EUROSAT_RGB_DIR, '.jpg'), ms=(EUROSAT_MS_DIR, '.tif'))

    def __init__(self, data_root: str = '', release: str = 'rgb', data_prefix: Optional[str] = None,
                 **kwargs) -> None:
        if release not in self.RELEASES:
            raise ValueError(f"EuroSATDataset release must be one of {tuple(self.RELEASES)}, got {release!r}")
        self.release = release
        prefix = self.RELEASES[release][0] if data_prefix is None else data_prefix
        super().__init__(data_root=data_root, data_prefix=prefix, **kwargs)

    def _parse_split_line(self, line: str, lineno: int) -> Tuple[str, str, Optional[int]]:
        parts = line.split()
        label = None
        if len(parts) == 2 and parts[1].lstrip('-').isdigit():
            label = int(parts[1])
        elif len(parts) != 1:
            raise DatasetFormatError(f"'{self.split_file}' line {lineno}: {line!r} is not '<file name>' or "
                                     f"'<path> <label>'. Fix: one image per line, e.g. 'AnnualCrop_1.jpg'.")
        stem = osp.splitext(osp.basename(parts[0].replace('\\', '/')))[0]
        cls = stem.rsplit('_', 1)[0]
        if '_' not in stem or not cls:
            raise DatasetFormatError(f"'{self.split_file}' line {lineno}: {parts[0]!r} is not a EuroSAT file name "
                                     f"'<Class>_<n>.<ext>'. Fix: correct the line.")
        # The lists name .jpg files (the RGB release); the multispectral release has the same names as .tif.
        return cls, stem + self.RELEASES[self.release][1], label

    def _check_image(self, path: str) -> None:
        if self.release == 'rgb':
            image_size(path)
            return
        import rasterio  # imported here: only the multispectral release needs it
        from rasterio.errors import RasterioError
        if not osp.isfile(path):
            raise missing_image(path)
        try:
            with rasterio.open(path) as src:
                count = src.count
        except RasterioError as e:
            raise unreadable_image(path, f'GDAL: {e}') from e
        if count != len(EUROSAT_MS_BANDS):
            raise DatasetFormatError(
                f"'{path}' has {count} bands; the EuroSAT multispectral release has {len(EUROSAT_MS_BANDS)} "
                f'({", ".join(EUROSAT_MS_BANDS)}). Fix: re-extract it from EuroSATallBands.zip, or use '
                f"release='rgb' for the RGB JPEGs.")
