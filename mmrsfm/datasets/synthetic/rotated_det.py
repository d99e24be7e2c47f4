"""Rotated-detection datasets: DOTA (split patches and the raw release) and DIOR-R."""
import os
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

from ..dior_r import DIOR_R_CLASSES, DIOR_R_XML_NAMES
from ..dota_split import DOTA_V2_CLASSES
from ._common import _DOTA_LOOK, _draw_scene, writer


@writer('dota')
def make_dota(root: str,
              num_train: int = 400,
              num_val: int = 50,
              size: int = 128,
              classes: Sequence[str] = ('plane', 'ship', 'storage-tank'),
              max_objects: int = 4,
              seed: int = 0) -> Dict[str, str]:
    """Write a DOTA-format dataset: ``{split}/images/P%04d.png`` + ``{split}/annfiles/P%04d.txt``.

    This is the layout mmrotate's DOTA splitting tool writes and its ``DOTADataset`` reads: one
    object per line, ``x1 y1 x2 y2 x3 y3 x4 y4 category difficult``, corners clockwise in pixels,
    without the ``imagesource:``/``gsd:`` header lines of the official ``labelTxt`` release.

    Args:
        root: Output directory (created).
        num_train: Images in ``train/``. Hundreds, not tens: mmengine's iteration-based loop sleeps
            2 s at every epoch boundary, which would dominate a short CPU run on a tiny set.
        num_val: Images in ``val/``.
        size: Square image side in pixels.
        classes: DOTA v2.0 category names to draw.
        max_objects: Objects per image are drawn uniformly from 1..max_objects.
        seed: Random seed; the same seed writes identical files.

    Returns:
        ``{split: split directory}``.
    """
    _check_dota_classes(classes)
    rng = np.random.default_rng(seed)
    out, index = {}, 0
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir, ann_dir = osp.join(root, split, 'images'), osp.join(root, split, 'annfiles')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for _ in range(count):
            img, objects = _draw_scene(rng, size, classes, max_objects)
            name = f'P{index:04d}'
            index += 1
            cv2.imwrite(osp.join(img_dir, name + '.png'), img)
            with open(osp.join(ann_dir, name + '.txt'), 'w') as f:
                for poly, cls in objects:
                    f.write(' '.join(f'{v:.1f}' for v in poly.reshape(-1)) + f' {cls} 0\n')
        out[split] = osp.join(root, split)
    return out


def _check_dota_classes(classes: Sequence[str]) -> None:
    unknown = sorted(set(classes) - set(DOTA_V2_CLASSES))
    if unknown:
        raise ValueError(f'classes {unknown} are not DOTA v2.0 categories: {DOTA_V2_CLASSES}')


#: The two header lines of an official DOTA ``labelTxt`` file of a Google Earth image.
DOTA_HEADER = ('imagesource:GoogleEarth', 'gsd:0.146343590398')


@writer('dota-raw')
def make_dota_raw(root: str,
                  num_train: int = 8,
                  num_val: int = 4,
                  num_test: int = 2,
                  size: int = 480,
                  classes: Sequence[str] = ('plane', 'ship', 'storage-tank'),
                  max_objects: int = 16,
                  object_size: Tuple[float, float] = (16., 30.),
                  seed: int = 0) -> Dict[str, str]:
    """Write DOTA as officially released, before splitting: large images with header lines.

    ``{train,val}/images/P%04d.png`` with ``{train,val}/labelTxt/P%04d.txt``, and ``test/images/``
    without labels. Each label file starts with the two lines of :data:`DOTA_HEADER`, then one object
    per line, ``x1 y1 x2 y2 x3 y3 x4 y4 category difficult`` (about 1 in 10 objects difficult). Read
    it with :func:`mmrsfm.datasets.dota_split.split_dota` to get the patch layout of :func:`make_dota`.

    Args:
        root: Output directory (created).
        num_train: Images in ``train/``.
        num_val: Images in ``val/``.
        num_test: Images in ``test/`` (no labels, as in the release).
        size: Largest image side; each image's width and height are drawn from ``[0.6 * size, size]``,
            so images are non-square and differ in size, like the real ones (800 to 20,000 px).
        classes: DOTA v2.0 category names to draw.
        max_objects: Objects per image are drawn uniformly from 1..max_objects.
        object_size: ``(min, max)`` long side of an object in pixels: a few per patch.
        seed: Random seed; the same seed writes identical files.

    Returns:
        ``{split: split directory}``.
    """
    _check_dota_classes(classes)
    rng = np.random.default_rng(seed)
    out, index = {}, 0
    for split, count in (('train', num_train), ('val', num_val), ('test', num_test)):
        img_dir, ann_dir = osp.join(root, split, 'images'), osp.join(root, split, 'labelTxt')
        os.makedirs(img_dir, exist_ok=True)
        if split != 'test':
            os.makedirs(ann_dir, exist_ok=True)
        for _ in range(count):
            width, height = (int(v) for v in rng.integers(int(0.6 * size), size + 1, 2))
            img, objects = _draw_scene(rng, (width, height), classes, max_objects, object_size=object_size)
            difficult = rng.random(len(objects)) < 0.1
            name = f'P{index:04d}'
            index += 1
            cv2.imwrite(osp.join(img_dir, name + '.png'), img)
            if split == 'test':
                continue
            with open(osp.join(ann_dir, name + '.txt'), 'w') as f:
                f.write('\n'.join(DOTA_HEADER) + '\n')
                for (poly, cls), diff in zip(objects, difficult):
                    f.write(' '.join(f'{v:.1f}' for v in poly.reshape(-1)) + f' {cls} {int(diff)}\n')
        out[split] = osp.join(root, split)
    return out


#: DIOR-R categories drawn like their DOTA counterparts.
_DIOR_LOOKS = {'airplane': _DOTA_LOOK['plane'], 'ship': _DOTA_LOOK['ship'],
               'storagetank': _DOTA_LOOK['storage-tank'], 'vehicle': _DOTA_LOOK['small-vehicle'],
               'harbor': _DOTA_LOOK['harbor']}
_DIOR_CORNERS = ('left_top', 'right_top', 'right_bottom', 'left_bottom')


@writer('dior-r')
def make_dior_r(root: str,
                num_train: int = 16,
                num_val: int = 4,
                num_test: int = 8,
                size: int = 128,
                classes: Sequence[str] = ('airplane', 'ship', 'storagetank'),
                max_objects: int = 4,
                seed: int = 0) -> Dict[str, str]:
    """Write DIOR-R in its released layout, the one mmrotate's ``DIORDataset`` reads.

    ``JPEGImages-trainval/%05d.jpg`` (train then val ids), ``JPEGImages-test/%05d.jpg``,
    ``Annotations/Oriented Bounding Boxes/%05d.xml`` for every image, and
    ``ImageSets/Main/{train,val,test}.txt`` (one id per line; the release has no ``trainval.txt``,
    which is why mmrotate's config concatenates train and val). Each xml is VOC-style:
    ``filename``, ``source``, ``size`` (width/height/depth), ``segmented``, and per object ``type``
    (``robndbox``), ``name`` (as spelled in the release, e.g. ``Expressway-Service-area``),
    ``truncated``, ``difficult``, ``robndbox`` with the integer corners ``x_left_top, y_left_top,
    x_right_top, ... y_left_bottom`` (clockwise) and ``angle`` (degrees; mmrotate does not read it).

    Args:
        root: Output directory (created).
        num_train: Images listed in ``train.txt``.
        num_val: Images listed in ``val.txt``.
        num_test: Images listed in ``test.txt``.
        size: Square image side; the real images are 800 x 800.
        classes: DIOR-R category names (:data:`mmrsfm.datasets.dior_r.DIOR_R_CLASSES` spelling) to draw.
        max_objects: Objects per image are drawn uniformly from 1..max_objects.
        seed: Random seed; the same seed writes identical files.

    Returns:
        ``{split: image-set file}``.
    """
    unknown = sorted(set(classes) - set(DIOR_R_CLASSES))
    if unknown:
        raise ValueError(f'classes {unknown} are not DIOR-R categories: {DIOR_R_CLASSES}')
    rng = np.random.default_rng(seed)
    ann_dir, set_dir = osp.join(root, 'Annotations', 'Oriented Bounding Boxes'), osp.join(root, 'ImageSets', 'Main')
    for d in (ann_dir, set_dir):
        os.makedirs(d, exist_ok=True)
    ids: Dict[str, list] = {}
    index = 1  # DIOR ids start at 00001; trainval ids come before test ids
    for split, count in (('train', num_train), ('val', num_val), ('test', num_test)):
        img_dir = osp.join(root, 'JPEGImages-test' if split == 'test' else 'JPEGImages-trainval')
        os.makedirs(img_dir, exist_ok=True)
        ids[split] = []
        for _ in range(count):
            img, objects = _draw_scene(rng, size, classes, max_objects, looks=_DIOR_LOOKS)
            img_id = f'{index:05d}'
            index += 1
            cv2.imwrite(osp.join(img_dir, img_id + '.jpg'), img)
            _write_dior_xml(osp.join(ann_dir, img_id + '.xml'), img_id + '.jpg', size, objects)
            ids[split].append(img_id)
    out = {}
    for split in ('train', 'val', 'test'):
        out[split] = osp.join(set_dir, split + '.txt')
        with open(out[split], 'w') as f:
            f.write(''.join(i + '\n' for i in ids[split]))
    return out


def _write_dior_xml(path: str, filename: str, size: int, objects: list) -> None:
    root = ET.Element('annotation')
    ET.SubElement(root, 'filename').text = filename
    ET.SubElement(ET.SubElement(root, 'source'), 'database').text = 'Unknown'
    size_el = ET.SubElement(root, 'size')
    for key, value in (('width', size), ('height', size), ('depth', 3)):
        ET.SubElement(size_el, key).text = str(value)
    ET.SubElement(root, 'segmented').text = '0'
    for poly, cls in objects:
        obj = ET.SubElement(root, 'object')
        ET.SubElement(obj, 'type').text = 'robndbox'
        ET.SubElement(obj, 'name').text = DIOR_R_XML_NAMES.get(cls, cls)
        ET.SubElement(obj, 'truncated').text = '0'
        ET.SubElement(obj, 'difficult').text = '0'
        box = ET.SubElement(obj, 'robndbox')
        for corner, (x, y) in zip(_DIOR_CORNERS, np.round(poly).astype(int)):
            ET.SubElement(box, f'x_{corner}').text = str(x)
            ET.SubElement(box, f'y_{corner}').text = str(y)
        dx, dy = poly[1] - poly[0]
        ET.SubElement(obj, 'angle').text = str(int(round(np.degrees(np.arctan2(dy, dx)))) % 180)
    ET.indent(root, space='\t')
    ET.ElementTree(root).write(path, encoding='utf-8')
