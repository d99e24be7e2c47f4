"""Writers of the VOC-style horizontal-box releases: DIOR (horizontal boxes) and SAR-AIRcraft-1.0."""
import os
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, Sequence

import cv2
import numpy as np

from ..dior import DIOR_CLASSES, DIOR_HBB_ANN_DIR, DIOR_XML_NAMES
from ..sar_aircraft import SAR_AIRCRAFT_CLASSES
from ._common import _draw_scene, writer
from .rotated_det import _DIOR_LOOKS

__all__ = ['make_dior_hbb', 'make_sar_aircraft', 'write_voc_xml']

#: Bright aircraft of distinct brightness and wing/fuselage ratio per type (BGR before the grey conversion).
_SAR_AIRCRAFT_LOOKS = dict(zip(SAR_AIRCRAFT_CLASSES, (
    ((250, 250, 250), 1.0), ((200, 200, 200), 2.5), ((160, 160, 160), 1.5), ((250, 250, 250), 4.0),
    ((30, 30, 30), 1.0), ((180, 180, 180), 3.2), ((40, 40, 40), 2.5))))


def write_voc_xml(path: str, filename: str, width: int, height: int, depth: int, objects: list,
                  names: Dict[str, str] = None) -> None:
    """A VOC-style xml: ``filename``, ``size``, and per object ``name`` (``names`` maps a class to its
    release spelling), ``pose``, ``truncated``, ``difficult`` and an integer ``bndbox`` (the bounds of
    each object's polygon in 1-based VOC pixel coordinates, clipped to the image; mmdet subtracts 1)."""
    root = ET.Element('annotation')
    ET.SubElement(root, 'filename').text = filename
    size_el = ET.SubElement(root, 'size')
    for key, value in (('width', width), ('height', height), ('depth', depth)):
        ET.SubElement(size_el, key).text = str(value)
    ET.SubElement(root, 'segmented').text = '0'
    for poly, cls in objects:
        obj = ET.SubElement(root, 'object')
        ET.SubElement(obj, 'name').text = (names or {}).get(cls, cls)
        ET.SubElement(obj, 'pose').text = 'Unspecified'
        ET.SubElement(obj, 'truncated').text = '0'
        ET.SubElement(obj, 'difficult').text = '0'
        box = ET.SubElement(obj, 'bndbox')
        lo = np.floor(poly.min(0) + 1).clip(1, [width, height]).astype(int)
        hi = np.ceil(poly.max(0) + 1).clip(1, [width, height]).astype(int)
        for tag, value in zip(('xmin', 'ymin', 'xmax', 'ymax'), (*lo, *hi)):
            ET.SubElement(box, tag).text = str(value)
    ET.indent(root, space='\t')
    ET.ElementTree(root).write(path, encoding='utf-8')


def _write_lists(set_dir: str, ids: Dict[str, list]) -> Dict[str, str]:
    out = {}
    for split, split_ids in ids.items():
        out[split] = osp.join(set_dir, split + '.txt')
        with open(out[split], 'w') as f:
            f.write(''.join(i + '\n' for i in split_ids))
    return out


def _check(classes: Sequence[str], known: Sequence[str], dataset: str) -> None:
    unknown = sorted(set(classes) - set(known))
    if unknown:
        raise ValueError(f'classes {unknown} are not {dataset} categories: {tuple(known)}')


@writer('dior-hbb')
def make_dior_hbb(root: str, num_train: int = 16, num_val: int = 4, num_test: int = 8, size: int = 128,
                  classes: Sequence[str] = ('airplane', 'ship', 'storagetank'), max_objects: int = 4,
                  seed: int = 0) -> Dict[str, str]:
    """Write DIOR with horizontal boxes in its released layout (what :class:`mmrsfm.datasets.DIORHBBDataset`
    reads): ``JPEGImages-trainval/%05d.jpg`` (train then val ids), ``JPEGImages-test/%05d.jpg``,
    ``Annotations/Horizontal Bounding Boxes/%05d.xml`` (VOC style, names as spelled in the release) and
    ``ImageSets/Main/{train,val,test}.txt``. Same scenes and looks as :func:`make_dior_r`; each box is the
    bounds of the drawn rotated object. Returns ``{split: image-set file}``.
    """
    _check(classes, DIOR_CLASSES, 'DIOR')
    rng = np.random.default_rng(seed)
    ann_dir, set_dir = osp.join(root, DIOR_HBB_ANN_DIR), osp.join(root, 'ImageSets', 'Main')
    for d in (ann_dir, set_dir):
        os.makedirs(d, exist_ok=True)
    ids: Dict[str, list] = {}
    index = 1
    for split, count in (('train', num_train), ('val', num_val), ('test', num_test)):
        img_dir = osp.join(root, 'JPEGImages-test' if split == 'test' else 'JPEGImages-trainval')
        os.makedirs(img_dir, exist_ok=True)
        ids[split] = []
        for _ in range(count):
            img, objects = _draw_scene(rng, size, classes, max_objects, looks=_DIOR_LOOKS)
            img_id = f'{index:05d}'
            index += 1
            cv2.imwrite(osp.join(img_dir, img_id + '.jpg'), img)
            write_voc_xml(osp.join(ann_dir, img_id + '.xml'), img_id + '.jpg', size, size, 3, objects,
                          DIOR_XML_NAMES)
            ids[split].append(img_id)
    return _write_lists(set_dir, ids)


@writer('sar-aircraft')
def make_sar_aircraft(root: str, num_train: int = 16, num_val: int = 4, num_test: int = 8, size: int = 128,
                      classes: Sequence[str] = ('A220', 'A320/321', 'Boeing737'), max_objects: int = 4,
                      seed: int = 0) -> Dict[str, str]:
    """Write SAR-AIRcraft-1.0 in its released layout (what :class:`mmrsfm.datasets.SARAircraftDataset`
    reads): single-band ``JPEGImages/%07d.jpg`` for every split, ``Annotations/%07d.xml`` (VOC style,
    ``depth`` 1) and ``ImageSets/Main/{train,val,test}.txt``. Each type is an object of its own
    brightness and aspect ratio on speckled dark ground. Returns ``{split: image-set file}``.
    """
    _check(classes, SAR_AIRCRAFT_CLASSES, 'SAR-AIRcraft-1.0')
    rng = np.random.default_rng(seed)
    img_dir, ann_dir = osp.join(root, 'JPEGImages'), osp.join(root, 'Annotations')
    set_dir = osp.join(root, 'ImageSets', 'Main')
    for d in (img_dir, ann_dir, set_dir):
        os.makedirs(d, exist_ok=True)
    ids: Dict[str, list] = {}
    index = 1
    for split, count in (('train', num_train), ('val', num_val), ('test', num_test)):
        ids[split] = []
        for _ in range(count):
            img, objects = _draw_scene(rng, size, classes, max_objects, looks=_SAR_AIRCRAFT_LOOKS)
            grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            img_id = f'{index:07d}'
            index += 1
            cv2.imwrite(osp.join(img_dir, img_id + '.jpg'), grey)
            write_voc_xml(osp.join(ann_dir, img_id + '.xml'), img_id + '.jpg', size, size, 1, objects)
            ids[split].append(img_id)
    return _write_lists(set_dir, ids)
