"""AIR-PolSAR-Seg (Wang et al., JSTARS 2022): GF-3 quad-polarisation terrain segmentation, 8 m, 6 classes.

Release (``github.com/AICyberTeam/AIR-PolSAR-Seg``, ``README.md``: 500 patches of 512 x 512 px cut from
one 9082 x 9805 px GF-3 QPSI amplitude scene, each in 4 polarisations HH, HV, VH, VV, "the total number
is 2000"; pixel labels for 6 categories)::

    AIR-PolSAR-Seg/train_set/<patch>_HH.tiff   1 band, amplitude (the paper: "a PolSAR amplitude image")
    AIR-PolSAR-Seg/train_set/<patch>_HV.tiff
    AIR-PolSAR-Seg/train_set/<patch>_VH.tiff
    AIR-PolSAR-Seg/train_set/<patch>_VV.tiff
    AIR-PolSAR-Seg/train_set/<patch>_gt.png    RGB colour-coded label (colours below)
    AIR-PolSAR-Seg/test_set/...                the same

What was checked, and where: the release README (``AICyberTeam/AIR-PolSAR-Seg/README.md``) gives the
counts, the polarisations and the 6 categories but not the file layout (the data sit on Baidu / Google
Drive, not readable here). The layout is taken from third-party loaders of the release: a PyTorch loader
reading ``<root>/train_set`` / ``<root>/test_set``, patch names from ``<patch>_gt.png`` and the
polarisations from ``<patch>_HH`` / ``_HV`` / ``_VH`` / ``_VV`` next to it, labels converted from RGB by
a colour table; SARATR-X-v2's mmseg pipeline ``LoadPolSARAmplitudeRGB``
(``segmentation/mmcv_custom/resize_transform.py``) pairing ``<patch>_HH.tiff`` with
``<patch>_HV.tiff`` / ``_VV.tiff`` in one folder ("AIR-PolSAR-Seg 1.0 format") and calling the values
amplitudes; and two mmseg dataset classes (SARATR-X-v2 ``air_polarsar_dataset.py``, a DINO-SAR
project) that agree on the six colours: housing (255, 255, 0), industrial (0, 0, 255), natural
(0, 255, 0), land use (255, 0, 0), water (0, 255, 255), other (255, 255, 255). Black (0, 0, 0) appears
as an extra "background" entry in one loader (commented out); it is accepted here and ignored (255).
No split files were found: the split is the two folders. The class order (training ids) follows the
paper's category list; loaders differ, so compare ids, not names, with published per-class tables.

Samples are ``img_path = {'HH': ..., 'HV': ..., 'VH': ..., 'VV': ...}`` + ``seg_map_path``;
``mmrsfm.LoadStackedModalities`` with :data:`AIR_POLSAR_SEG_BANDS` stacks them as 4 bands in that
order, :class:`~mmrsfm.datasets.transforms.LoadColourCodedAnnotations` turns the colours into training
ids (checking them, see :mod:`mmrsfm.datasets.label_checks`) and ``mmrsfm.SARToDecibels`` converts the
amplitudes to dB before the data preprocessor's per-band mean/std.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset

from mmrsfm.registry import DATASETS
from .label_checks import IGNORE_INDEX, LabelValuesMixin

#: Class names in training-id order (the paper's category order).
AIR_POLSAR_SEG_CLASSES = ('housing', 'industrial', 'natural', 'land_use', 'water', 'other')
#: Label colour (R, G, B) of each class, in training-id order.
AIR_POLSAR_SEG_PALETTE = [[255, 255, 0], [0, 0, 255], [0, 255, 0], [255, 0, 0], [0, 255, 255], [255, 255, 255]]
#: Label colour of unlabelled pixels (ignored).
AIR_POLSAR_SEG_BACKGROUND = (0, 0, 0)
#: Polarisations in stacking order, one single-band file each.
AIR_POLSAR_SEG_POLARISATIONS = ('HH', 'HV', 'VH', 'VV')
#: ``bands`` for ``mmrsfm.LoadStackedModalities``.
AIR_POLSAR_SEG_BANDS = {p: 1 for p in AIR_POLSAR_SEG_POLARISATIONS}
#: Release split folders.
AIR_POLSAR_SEG_SPLITS = dict(train='train_set', test='test_set')
IMAGE_SUFFIX, LABEL_SUFFIX = '.tiff', '_gt.png'


def colour_code(rgb: Sequence[int]) -> int:
    """One integer per colour, ``R * 65536 + G * 256 + B``: the value the label checks compare."""
    r, g, b = (int(c) for c in rgb)
    return (r << 16) | (g << 8) | b


def air_polsar_seg_label_table() -> Dict[int, int]:
    """Label colour code (:func:`colour_code`) -> training id (background -> 255)."""
    table = {colour_code(c): i for i, c in enumerate(AIR_POLSAR_SEG_PALETTE)}
    table[colour_code(AIR_POLSAR_SEG_BACKGROUND)] = IGNORE_INDEX
    return table


_EXPECTED = ', '.join(f'{colour_code(c)} = {n} {tuple(c)}' for n, c in zip(AIR_POLSAR_SEG_CLASSES,
                                                                           AIR_POLSAR_SEG_PALETTE)) + \
    f', 0 = background {AIR_POLSAR_SEG_BACKGROUND} (ignored); codes are R * 65536 + G * 256 + B'


def find_patches(folder: str, polarisations: Sequence[str] = AIR_POLSAR_SEG_POLARISATIONS
                 ) -> List[Tuple[str, Dict[str, str], str]]:
    """``[(patch, {polarisation: file}, label file), ...]`` of every patch in ``folder``, name order.

    A patch is any name with a ``<patch>_gt.png`` or a ``<patch>_<POL>.tiff`` file.

    Raises:
        FileNotFoundError: ``folder`` does not exist, or a patch lacks a polarisation or its label (all
            such files are listed: a patch is never dropped silently).
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f"AIR-PolSAR-Seg folder '{folder}' does not exist. Fix: set data_root to the "
                                f'release folder holding {sorted(AIR_POLSAR_SEG_SPLITS.values())}/ and '
                                f'data_prefix=dict(img_path=<split folder>)')
    suffixes = {f'_{p}{IMAGE_SUFFIX}': p for p in polarisations}
    patches: Dict[str, Dict[str, str]] = {}
    for file in sorted(os.listdir(folder)):
        if file.endswith(LABEL_SUFFIX):
            patches.setdefault(file[:-len(LABEL_SUFFIX)], {})['label'] = osp.join(folder, file)
            continue
        for suffix, pol in suffixes.items():
            if file.endswith(suffix):
                patches.setdefault(file[:-len(suffix)], {})[pol] = osp.join(folder, file)
    missing = [osp.join(folder, f'{name}_{k}{IMAGE_SUFFIX}' if k != 'label' else f'{name}{LABEL_SUFFIX}')
               for name, files in sorted(patches.items()) for k in (*polarisations, 'label') if k not in files]
    if missing:
        shown = '\n  '.join(missing[:10]) + (f'\n  ... and {len(missing) - 10} more' if len(missing) > 10 else '')
        raise FileNotFoundError(
            f'AIR-PolSAR-Seg under {folder}: {len(missing)} file(s) missing for patches that have other files '
            f'(every patch needs {", ".join(f"_{p}{IMAGE_SUFFIX}" for p in polarisations)} and '
            f'{LABEL_SUFFIX}):\n  {shown}\nFix: restore them from the release, or remove the other files of '
            f'those patches.')
    return [(name, {p: files[p] for p in polarisations}, files['label']) for name, files in sorted(patches.items())]


@DATASETS.register_module()
class AIRPolSARSegDataset(LabelValuesMixin, BaseSegDataset):
    """AIR-PolSAR-Seg patches read from ``data_root/<split folder>/`` in the release layout (see the
    module docstring): ``img_path = {'HH': ..., 'HV': ..., 'VH': ..., 'VV': ...}``.

    Every patch needs its four polarisation files and its label (an error lists the missing ones); the
    sample count is logged. Load with ``mmrsfm.LoadStackedModalities`` (``bands=AIR_POLSAR_SEG_BANDS``)
    and ``mmrsfm.LoadColourCodedAnnotations``, which maps label colours to training ids with the
    ``label_colours`` table each sample carries and checks them once per file.

    Args:
        data_prefix: ``dict(img_path=<split folder>)`` relative to ``data_root``. Defaults to
            ``dict(img_path='train_set')``.
        label_map: Extra / changed ``{colour code: class index}`` entries (:func:`colour_code`, 255 =
            ignored), e.g. ``{colour_code((128, 128, 128)): 255}``.
        check_labels: Check label colours. Defaults to True.
        **kwargs: ``BaseSegDataset`` arguments (``data_root``, ``pipeline``, ``test_mode``, ...).
    """
    METAINFO = dict(classes=AIR_POLSAR_SEG_CLASSES, palette=AIR_POLSAR_SEG_PALETTE)
    LABEL_DATASET = 'AIR-PolSAR-Seg'
    LABEL_EXPECTED = _EXPECTED
    CHECK_IN_PREPARE = False  # the colour loader checks the decoded colours, not one channel

    def __init__(self, data_prefix: Optional[Dict[str, str]] = None, label_map: Optional[Dict[int, int]] = None,
                 check_labels: bool = True, **kwargs) -> None:
        self.file_label_map, self.check_labels = label_map, check_labels
        super().__init__(data_prefix=dict(img_path=AIR_POLSAR_SEG_SPLITS['train']) if data_prefix is None
                         else data_prefix, img_suffix=IMAGE_SUFFIX, seg_map_suffix=LABEL_SUFFIX, **kwargs)

    def default_label_table(self) -> Dict[int, int]:
        return air_polsar_seg_label_table()

    def load_data_list(self) -> List[dict]:
        folder = self.data_prefix.get('img_path') or self.data_root
        class_map = self._class_subset_map()
        colours = {code: class_map.get(index, index) for code, index in self.label_table().items()}
        data_list = [dict(img_path=images, seg_map_path=label, patch=name, label_colours=colours,
                          check_labels=self.check_labels, label_dataset=self.LABEL_DATASET,
                          label_expected=self.LABEL_EXPECTED, label_map=None, reduce_zero_label=False,
                          seg_fields=[])
                     for name, images, label in find_patches(folder)]
        if not data_list:
            raise FileNotFoundError(f'AIRPolSARSegDataset: no patches (*{LABEL_SUFFIX}, *_HH{IMAGE_SUFFIX}) in '
                                    f'{folder}. Fix: point data_prefix.img_path at train_set/ or test_set/')
        print_log(f'AIR-PolSAR-Seg {folder}: {len(data_list)} samples', logger='current')
        return data_list
