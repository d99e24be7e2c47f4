"""Change-detection datasets: image pairs (A = earlier date, B = later date) and a change map.

Each sample's ``img_path`` is the pair ``(A, B)``; a date is one image file, or (OSCD) a tuple of
single-band files. The pipeline starts with ``mmrsfm.LoadBiTemporalImages`` and
``mmrsfm.LoadCDAnnotations`` (see :mod:`mmrsfm.datasets.transforms.bitemporal`).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import mmengine
from mmseg.datasets import BaseSegDataset

from mmrsfm.registry import DATASETS
from .label_checks import IGNORE_INDEX, LabelValuesMixin
from .sentinel2 import S2_BANDS
from .transforms.bitemporal import DatePath


def _require_dir(path: str, what: str) -> None:
    if not osp.isdir(path):
        raise FileNotFoundError(f"{what} '{path}' is not a directory. Fix: check data_root / data_prefix "
                                f'against the dataset layout in the dataset class docstring.')


def _raise_missing(missing: List[str], what: str) -> None:
    if missing:
        shown = '\n  '.join(missing[:10]) + (f'\n  ... and {len(missing) - 10} more' if len(missing) > 10 else '')
        raise FileNotFoundError(f'{len(missing)} {what}:\n  {shown}\nEvery sample needs both dates and its '
                                f'change map; restore the files (samples are never dropped silently).')


@DATASETS.register_module()
class BiTemporalDataset(LabelValuesMixin, BaseSegDataset):
    """Image pairs matched by file name across three folders, mmseg-style.

    Layout (folders set by ``data_prefix=dict(img_path_a=..., img_path_b=..., seg_map_path=...)``)::

        {img_path_a}/xxx{img_suffix}   {img_path_b}/xxx{img_suffix}   {seg_map_path}/xxx{seg_map_suffix}

    Samples are the images of ``img_path_a`` (or the names listed in ``ann_file``, one per line,
    without suffix). An A image without its B image or change map, or a B image without an A image,
    raises ``FileNotFoundError`` naming it; an empty split raises naming the folder.

    Subclasses declare :attr:`LABEL_FILE_VALUES`, the value that stands for each class in the label
    files (e.g. LEVIR-CD's 0/255); it becomes the ``label_map`` that ``LoadCDAnnotations`` applies.
    ``LoadCDAnnotations`` also checks every change map when it first loads it (once per file and
    process): a value that is not a declared label-file value is an error naming the file, the values
    and the fix, instead of an ``IndexError`` in the loss (LEVIR-CD) or a silently wrong map (OSCD).

    Args:
        img_suffix: Suffix of both dates' images. Defaults to '.png'.
        seg_map_suffix: Suffix of the change maps. Defaults to '.png'.
        data_prefix: Folders of date A, date B and the change maps (leave ``seg_map_path`` out for
            unlabelled pairs). Defaults to ``dict(img_path_a='A', img_path_b='B', seg_map_path='label')``.
        label_map: Extra or changed entries ``{label-file value: class index}`` (255 = ignored) on top
            of :attr:`LABEL_FILE_VALUES`, e.g. ``label_map={1: 1}`` for LEVIR-CD-style maps stored as
            0/1, or ``{0: 255}`` to ignore OSCD pixels marked 0. Defaults to None.
        check_labels: Check the change-map values (see above). Defaults to True.
        **kwargs: ``BaseSegDataset`` arguments (``data_root``, ``ann_file``, ``pipeline``, ...).
    """
    METAINFO = dict(classes=('unchanged', 'changed'), palette=[[0, 0, 0], [255, 255, 255]])
    #: Value of class i in the label files; None when files already hold class indices.
    LABEL_FILE_VALUES: Optional[Tuple[int, ...]] = None
    LABEL_DATASET = 'change-detection'
    LABEL_EXPECTED = 'class indices'
    CHECK_IN_PREPARE = False  # LoadCDAnnotations checks the map it reads anyway

    def __init__(self, img_suffix: str = '.png', seg_map_suffix: str = '.png',
                 data_prefix: Optional[Dict[str, str]] = None, label_map: Optional[Dict[int, int]] = None,
                 check_labels: bool = True, **kwargs) -> None:
        self.file_label_map, self.check_labels = label_map, check_labels
        if data_prefix is None:
            data_prefix = dict(img_path_a='A', img_path_b='B', seg_map_path='label')
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, data_prefix=data_prefix, **kwargs)

    @classmethod
    def get_label_map(cls, new_classes: Optional[Sequence[str]] = None) -> Optional[Dict[int, int]]:
        """Map from label-file values to training ids: :attr:`LABEL_FILE_VALUES` composed with
        mmseg's map for a class subset (``metainfo=dict(classes=...)``)."""
        class_map = super().get_label_map(new_classes) or {}
        if cls.LABEL_FILE_VALUES is None:
            return class_map or None
        value_map = {v: class_map.get(i, i) for i, v in enumerate(cls.LABEL_FILE_VALUES)}
        return {v: i for v, i in value_map.items() if v != i} or None

    def default_label_table(self) -> Dict[int, int]:
        if self.LABEL_FILE_VALUES is None:  # files hold class indices, and 255 where ignored
            return {**super().default_label_table(), IGNORE_INDEX: IGNORE_INDEX}
        return {value: index for index, value in enumerate(self.LABEL_FILE_VALUES)}

    def _sample(self, img_a: DatePath, img_b: DatePath, seg_map: Optional[str]) -> dict:
        if getattr(self, '_label_spec', None) is None:  # computed once per dataset
            self._label_spec = (self.sample_label_map(), self.accepted_label_values())
        label_map, values = self._label_spec
        sample = dict(img_path=(img_a, img_b), seg_map_path=seg_map, label_map=label_map,
                      reduce_zero_label=self.reduce_zero_label, seg_fields=[])
        if self.check_labels and seg_map is not None:  # read by LoadCDAnnotations
            sample['label_check'] = dict(values=values, dataset=self.LABEL_DATASET, expected=self.LABEL_EXPECTED)
        return sample

    def load_data_list(self) -> List[dict]:
        dir_a, dir_b = self.data_prefix.get('img_path_a'), self.data_prefix.get('img_path_b')
        dir_label = self.data_prefix.get('seg_map_path')
        if dir_a is None or dir_b is None:
            raise KeyError(f'{type(self).__name__} needs data_prefix=dict(img_path_a=..., img_path_b=..., '
                           f'seg_map_path=...), got {self.data_prefix}')
        for d, what in ((dir_a, 'data_prefix.img_path_a'), (dir_b, 'data_prefix.img_path_b'),
                        (dir_label, 'data_prefix.seg_map_path')):
            if d is not None:
                _require_dir(d, what)
        if self.ann_file:
            names = [n.strip() for n in mmengine.list_from_file(self.ann_file) if n.strip()]
            source = f"ann_file '{self.ann_file}'"
        else:
            names = sorted(f[:-len(self.img_suffix)] for f in os.listdir(dir_a) if f.endswith(self.img_suffix))
            source = f"'{dir_a}' (no *{self.img_suffix} files)"
            unpaired = sorted(set(f[:-len(self.img_suffix)] for f in os.listdir(dir_b)
                                  if f.endswith(self.img_suffix)) - set(names))
            _raise_missing([osp.join(dir_b, n + self.img_suffix) for n in unpaired],
                           f'date-B image(s) have no date-A image in {dir_a}')
        if not names:
            raise ValueError(f'{type(self).__name__}: empty split, no samples in {source}. Fix: point '
                             f'data_root / data_prefix at the split folders.')
        data_list, missing = [], []
        for name in names:
            a, b = osp.join(dir_a, name + self.img_suffix), osp.join(dir_b, name + self.img_suffix)
            label = None if dir_label is None else osp.join(dir_label, name + self.seg_map_suffix)
            missing += [f'{p}  (for {a})' for p in (a, b, label) if p is not None and not osp.isfile(p)]
            data_list.append(self._sample(a, b, label))
        _raise_missing(missing, 'file(s) of listed samples are missing')
        return data_list


@DATASETS.register_module()
class LEVIRCDDataset(BiTemporalDataset):
    """LEVIR-CD (Chen & Shi, 2020): 637 pairs of 1024x1024 RGB tiles at 0.5 m, building changes.

    Official layout (445/64/128 pairs)::

        LEVIR-CD/{train,val,test}/A/*.png    date A (RGB)
        LEVIR-CD/{train,val,test}/B/*.png    date B
        LEVIR-CD/{train,val,test}/label/*.png  change map, 0 = unchanged, 255 = changed

    e.g. ``data_root='data/levir-cd/', data_prefix=dict(img_path_a='train/A', img_path_b='train/B',
    seg_map_path='train/label')``. Label values 0/255 are mapped to classes 0/1; any other value is an
    error naming the file (see ``label_map`` of :class:`BiTemporalDataset` for maps stored otherwise).
    """
    LABEL_FILE_VALUES = (0, 255)
    LABEL_DATASET = 'LEVIR-CD'
    LABEL_EXPECTED = '0 = unchanged, 255 = changed'


@DATASETS.register_module()
class OSCDDataset(BiTemporalDataset):
    """Onera Satellite Change Detection (Daudt et al., 2018): 24 Sentinel-2 city pairs, 13 bands.

    Official release (the three archives, renamed to short folder names)::

        images/                   <- "Onera Satellite Change Detection dataset - Images"
            train.txt, test.txt   one line of comma-separated city names (14 train / 10 test)
            <city>/imgs_1/<S2 product name>_B01.tif ... _B12.tif, _B8A.tif   date 1, native 10/20/60 m
            <city>/imgs_2/...                                                date 2
            <city>/imgs_1_rect/B01.tif ..., imgs_2_rect/...   the same bands, all on the 10 m grid
        train_labels/<city>/cm/<city>-cm.tif   <- "... - Train Labels" (1 = unchanged, 2 = changed;
        test_labels/<city>/cm/<city>-cm.tif    <- "... - Test Labels"   cm/cm.png holds the same map)

    By default the native ``imgs_1``/``imgs_2`` folders are read, as the dataset authors' own loader
    does; the 20 m and 60 m bands are upsampled to the 10 m grid when loaded (bicubic by the integer
    ratio, top-left aligned, cropped/edge-padded to the 10 m size: see
    :func:`mmrsfm.datasets.transforms.bitemporal.stack_bands`). ``rectified=True`` reads the
    ``*_rect`` folders instead, already on the 10 m grid. Labels are read from ``<city>-cm.tif`` whose
    values 1/2 map to classes 0/1. A date is a tuple of band files in the order of ``bands``.

    Args:
        bands: Sentinel-2 band names to load, in this order. Defaults to all 13 in ESA order
            (:data:`mmrsfm.datasets.sentinel2.S2_BANDS`).
        rectified: Read ``imgs_{1,2}_rect`` instead of ``imgs_{1,2}``. Defaults to False.
        ann_file: City list, comma-separated. Defaults to ``'images/train.txt'``.
        data_prefix: ``img_path`` (folder of city folders) and ``seg_map_path`` (folder of label city
            folders). Defaults to ``dict(img_path='images', seg_map_path='train_labels')``.
        **kwargs: ``BaseSegDataset`` arguments.
    """
    LABEL_FILE_VALUES = (1, 2)
    LABEL_DATASET = 'OSCD'
    LABEL_EXPECTED = '1 = unchanged, 2 = changed'

    def __init__(self, bands: Sequence[str] = S2_BANDS, rectified: bool = False,
                 ann_file: str = 'images/train.txt', data_prefix: Optional[Dict[str, str]] = None,
                 **kwargs) -> None:
        self.bands = tuple(bands)
        unknown = [b for b in self.bands if b not in S2_BANDS]
        if unknown or not self.bands or len(set(self.bands)) != len(self.bands):
            raise ValueError(f'OSCDDataset bands={list(bands)}: unknown {unknown} or empty/duplicate names. '
                             f'Fix: choose from the Sentinel-2 bands {list(S2_BANDS)}.')
        self.rectified = rectified
        if data_prefix is None:
            data_prefix = dict(img_path='images', seg_map_path='train_labels')
        super().__init__(img_suffix='.tif', seg_map_suffix='.tif', ann_file=ann_file, data_prefix=data_prefix,
                         **kwargs)

    def _band_files(self, folder: str) -> Tuple[str, ...]:
        if not osp.isdir(folder):
            other = folder[:-len('_rect')] if self.rectified else folder + '_rect'
            if osp.isdir(other):
                flag = 'False' if self.rectified else 'True'
                kind = 'the native bands (imgs_1/imgs_2)' if self.rectified else 'only the rectified bands'
                raise FileNotFoundError(
                    f"OSCD image folder '{folder}' does not exist, but '{other}' does: this copy holds {kind}. "
                    f'Fix: set rectified={flag} in the dataset config, e.g. --cfg-options '
                    f'train_dataloader.dataset.rectified={flag} val_dataloader.dataset.rectified={flag} '
                    f'test_dataloader.dataset.rectified={flag}')
        _require_dir(folder, 'OSCD image folder')
        files = sorted(f for f in os.listdir(folder) if f.lower().endswith('.tif'))
        out = []
        for band in self.bands:
            # native files are '<product>_B8A.tif', rectified ones 'B8A.tif': match the band suffix
            found = [f for f in files if f[:-4].upper().endswith(band)]
            if len(found) != 1:
                raise FileNotFoundError(f"OSCD folder '{folder}' has {len(found)} files for band {band} "
                                        f"(expected one '*{band}.tif'): {found}")
            out.append(osp.join(folder, found[0]))
        return tuple(out)

    def load_data_list(self) -> List[dict]:
        img_root, label_root = self.data_prefix.get('img_path'), self.data_prefix.get('seg_map_path')
        _require_dir(img_root, 'data_prefix.img_path')
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f"OSCD city list ann_file '{self.ann_file}' does not exist "
                                    f"(the release has images/train.txt and images/test.txt)")
        with open(self.ann_file) as f:
            cities = [c.strip() for c in f.read().replace('\n', ',').split(',') if c.strip()]
        if not cities:
            raise ValueError(f"OSCDDataset: empty split, ann_file '{self.ann_file}' lists no city")
        suffix = '_rect' if self.rectified else ''
        data_list, missing = [], []
        for city in cities:
            dates = [self._band_files(osp.join(img_root, city, f'imgs_{d}{suffix}')) for d in (1, 2)]
            label = None
            if label_root is not None:
                label = osp.join(label_root, city, 'cm', f'{city}-cm.tif')
                if not osp.isfile(label):
                    missing.append(f'{label}  (change map of city {city})')
            data_list.append(self._sample(dates[0], dates[1], label))
        _raise_missing(missing, 'OSCD change map(s) are missing')
        return data_list
