"""SegMunich (Hong et al., SpectralGPT, IEEE TPAMI 2024): Sentinel-2 land-use segmentation around Munich.

128 x 128 patches of 10 Sentinel-2 bands at 10 m with 13 classes (12 land-use classes + background),
released with SpectralGPT (Zenodo record 8412455). Layout, as the official SpectralGPT loader
(``downstream_tasks/SegMunich/TUM_128.py``) reads it::

    SegMunich/dataset/train.txt, dataset/val.txt   sample ids, one per line
    SegMunich/train/img/<id>.tif     (H, W, 10) multi-band TIFF
    SegMunich/train/label/<id>.tif   single-band label-file values (see SEGMUNICH_LABEL_VALUES)
    SegMunich/val/img/..., val/label/...

Band names: the release does not describe its bands and the authors do not list them; third-party
loaders use B01, B02, B03, B04, B05, B06, B07, B8A, B11, B12 (:data:`SEGMUNICH_BANDS`), which is
what ``LoadMultiBandImage(band_names=SEGMUNICH_BANDS)`` assumes for undescribed files.
The official model input pads the 10 bands to 12 with two copies of the per-pixel band mean and
normalises each image per band by min-max (``PadBands(12, 'mean')`` +
``MultiSpectralDataPreprocessor(norm='minmax')``; see ``configs/_base_/datasets/segmunich.py``).
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmseg.datasets import BaseSegDataset

from mmrsfm.registry import DATASETS
from .label_checks import LabelValuesMixin

#: Band names assumed for SegMunich's 10 undescribed bands, in file order (see the module docstring).
SEGMUNICH_BANDS = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B8A', 'B11', 'B12')
#: Class names in training-id order (background first, as the official 13-class model).
SEGMUNICH_CLASSES = ('background', 'arable land', 'permanent crops', 'pastures', 'forests', 'surface water',
                     'shrub', 'open spaces', 'wetlands', 'mine dump', 'artificial vegetation', 'urban fabric',
                     'buildings')
#: Value of each class in the label files (class i is stored as SEGMUNICH_LABEL_VALUES[i]): the
#: official loader maps 21->1, 22->2, 23->3, 31->4, 32->6, 33->7, 41->8, 13->9, 14->10 and keeps
#: 0, 5, 11 and 12 as they are.
SEGMUNICH_LABEL_VALUES = (0, 21, 22, 23, 31, 5, 32, 33, 41, 13, 14, 11, 12)
#: Colours for visualisation (one per class).
SEGMUNICH_PALETTE = [[0, 0, 0], [255, 255, 100], [230, 128, 0], [200, 230, 100], [0, 140, 0], [0, 100, 255],
                     [150, 200, 80], [210, 210, 210], [120, 120, 255], [160, 80, 40], [100, 255, 100],
                     [230, 0, 0], [130, 0, 0]]


@DATASETS.register_module()
class SegMunichDataset(LabelValuesMixin, BaseSegDataset):
    """SegMunich in its release layout (see the module docstring), labels mapped to 13 training ids.

    Every id listed in ``dataset/<split>.txt`` needs its image and label; missing files raise
    ``FileNotFoundError`` naming them. Label-file values are mapped to training ids by the sample's
    ``label_map`` (applied by mmseg's ``LoadAnnotations``); a class subset
    (``metainfo=dict(classes=...)``) composes with it as in mmseg. A label file holding a value outside
    :data:`SEGMUNICH_LABEL_VALUES` is an error naming the file and the values (checked once per file
    when it is first loaded), unless ``label_map`` declares it.

    Args:
        split: ``'train'`` or ``'val'``: sets ``ann_file='dataset/<split>.txt'`` and
            ``data_prefix=dict(img_path='<split>/img', seg_map_path='<split>/label')`` unless given.
            Defaults to 'train'.
        label_map: Extra or changed entries ``{label-file value: class index}`` (255 = ignored) on top
            of :data:`SEGMUNICH_LABEL_VALUES`, e.g. ``label_map={255: 255}``. Defaults to None.
        check_labels: Check the label-file values (see above). Defaults to True.
        **kwargs: ``BaseSegDataset`` arguments (``data_root``, ``pipeline``, ...).
    """
    METAINFO = dict(classes=SEGMUNICH_CLASSES, palette=SEGMUNICH_PALETTE)
    LABEL_DATASET = 'SegMunich'
    LABEL_EXPECTED = 'SEGMUNICH_LABEL_VALUES: ' + ', '.join(
        f'{v} = {c}' for v, c in zip(SEGMUNICH_LABEL_VALUES, SEGMUNICH_CLASSES))

    def __init__(self, split: str = 'train', ann_file: Optional[str] = None,
                 data_prefix: Optional[Dict[str, str]] = None, img_suffix: str = '.tif',
                 seg_map_suffix: str = '.tif', label_map: Optional[Dict[int, int]] = None,
                 check_labels: bool = True, **kwargs) -> None:
        self.split = split
        self.file_label_map, self.check_labels = label_map, check_labels
        super().__init__(
            ann_file=f'dataset/{split}.txt' if ann_file is None else ann_file,
            data_prefix=dict(img_path=f'{split}/img', seg_map_path=f'{split}/label') if data_prefix is None
            else data_prefix,
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    @classmethod
    def get_label_map(cls, new_classes: Optional[Sequence[str]] = None) -> Optional[Dict[int, int]]:
        """Label-file value -> training id, composed with mmseg's map for a class subset."""
        class_map = super().get_label_map(new_classes) or {}
        values = {v: class_map.get(i, i) for i, v in enumerate(SEGMUNICH_LABEL_VALUES)}
        return {v: i for v, i in values.items() if v != i} or None

    def default_label_table(self) -> Dict[int, int]:
        return {value: index for index, value in enumerate(SEGMUNICH_LABEL_VALUES)}

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f"SegMunich split list '{self.ann_file}' does not exist. Fix: set data_root "
                                    f'to the folder holding dataset/{{train,val}}.txt and {{train,val}}/img|label')
        data_list = super().load_data_list()
        label_map = self.sample_label_map()
        for info in data_list:
            info['label_map'] = label_map
        if not data_list:
            raise ValueError(f"SegMunichDataset: empty split, '{self.ann_file}' lists no sample")
        missing = [p for d in data_list for p in (d['img_path'], d.get('seg_map_path'))
                   if p is not None and not osp.isfile(p)]
        if missing:
            shown = '\n  '.join(missing[:10]) + (f'\n  ... and {len(missing) - 10} more' if len(missing) > 10 else '')
            raise FileNotFoundError(f"{len(missing)} file(s) of samples listed in '{self.ann_file}' are missing:"
                                    f'\n  {shown}\nRestore them or remove their ids from the list.')
        return data_list
