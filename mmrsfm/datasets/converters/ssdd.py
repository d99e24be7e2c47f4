"""Official-SSDD (Zhang et al., "SAR Ship Detection Dataset (SSDD): Official Release and Comprehensive
Data Analysis", Remote Sensing 2021): checks of the release's COCO files.

The release ``Official-SSDD-OPEN`` ships three annotation flavours of the same 1160 SAR images:
``BBox_SSDD`` (boxes), ``RBox_SSDD`` (rotated boxes) and ``PSeg_SSDD`` (polygon segmentation, the one
for instance segmentation), each as ``voc_style/`` (``JPEGImages_{train,test}``,
``Annotations_{train,test}``) and ``coco_style/`` (``images/{train,test}/``,
``annotations/{train,test}.json``; the test set is also split into inshore/offshore). The split is
fixed by file name: images whose number ends in 1 or 9 are test (232), the others train (928).

mmdet reads ``coco_style`` directly, so nothing is converted: :func:`check_ssdd` validates it the way
``mmrsfm.CheckedCocoDataset`` will (missing images, unknown categories, missing fields) and reports
files whose split contradicts the 1/9 rule. Folder and file names were verified from public code
that reads the release; the json field contents were not (no copy was available to us), hence the
up-front checks.
"""
import json
import os.path as osp
import re
from typing import Dict

from mmengine.logging import print_log

from ..file_checks import check_coco

SSDD_CLASSES = ('ship', )


def ssdd_split_of(file_name: str) -> str:
    """The official split of an SSDD image: ``'test'`` if its number ends in 1 or 9, else ``'train'``."""
    digits = re.findall(r'\d', osp.splitext(osp.basename(file_name))[0])
    if not digits:
        raise ValueError(f"SSDD file name '{file_name}' has no number; the official split is by its last digit")
    return 'test' if digits[-1] in '19' else 'train'


def check_ssdd(root: str, flavour: str = 'PSeg_SSDD', check_images: bool = True) -> Dict[str, dict]:
    """Validate ``{root}/{flavour}/coco_style`` (``root`` = ``Official-SSDD-OPEN`` or a folder above it).

    Returns:
        ``{split: counts}`` with ``images``, ``annotations``, ``images_without_annotations`` and
        ``off_rule`` (images whose split contradicts the last-digit rule).
    """
    base = osp.join(root, flavour, 'coco_style')
    if not osp.isdir(base) and osp.isdir(osp.join(root, 'Official-SSDD-OPEN', flavour, 'coco_style')):
        base = osp.join(root, 'Official-SSDD-OPEN', flavour, 'coco_style')
    if not osp.isdir(base):
        raise FileNotFoundError(f"'{base}' does not exist. Fix: pass the extracted Official-SSDD-OPEN folder "
                                f'(it holds {flavour}/coco_style/{{annotations,images}}).')
    report = {}
    for split in ('train', 'test'):
        ann_file = osp.join(base, 'annotations', f'{split}.json')
        with open(ann_file) as f:
            data = json.load(f)
        stats = check_coco(data, ann_file, osp.join(base, 'images', split), SSDD_CLASSES, check_images)
        off = [img['file_name'] for img in data['images'] if ssdd_split_of(img['file_name']) != split]
        if off:
            print_log(f'SSDD {split}: {len(off)} image(s) contradict the last-digit split rule, e.g. {off[:3]}',
                      logger='current')
        report[split] = dict(stats, off_rule=len(off))
    return report
