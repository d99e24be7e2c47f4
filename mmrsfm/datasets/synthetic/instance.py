"""Instance-segmentation datasets: generic COCO, and SSDD, WHU building and NWPU VHR-10 in their
official release layouts (so that :mod:`mmrsfm.datasets.converters` is exercised on them)."""
import json
import os
import os.path as osp
from typing import Dict, Sequence

import cv2
import numpy as np

from ..converters.nwpu_vhr10 import GT_DIR, NEGATIVE_DIR, NWPU_VHR10_CLASSES, POSITIVE_DIR
from ..converters.ssdd import ssdd_split_of
from ._common import _draw_scene, writer

__all__ = ['make_coco_instances', 'make_ssdd', 'make_whu_building', 'make_nwpu_vhr10']

#: Bright elongated ships on dark sea (BGR before the conversion to a grey SAR look).
_SSDD_LOOK = {'ship': ((235, 235, 235), 3.5)}
#: One (BGR colour, aspect ratio) per NWPU VHR-10 class, so every class is learnable.
_NWPU_LOOK = dict(zip(NWPU_VHR10_CLASSES, (
    ((230, 230, 230), 1.2), ((60, 220, 60), 3.0), ((230, 120, 40), 1.0), ((40, 160, 230), 1.0),
    ((200, 60, 200), 2.0), ((60, 60, 230), 1.8), ((40, 230, 230), 1.6), ((120, 40, 160), 4.0),
    ((160, 160, 40), 5.0), ((20, 20, 20), 2.2))))


def _polygon_annotation(poly: np.ndarray, size: int) -> dict:
    """COCO ``segmentation``/``bbox``/``area`` of one polygon object (``iscrowd`` 0) in a square image."""
    x0, y0 = poly.min(0).clip(0, size)
    x1, y1 = poly.max(0).clip(0, size)
    return dict(iscrowd=0, segmentation=[[round(float(v), 1) for v in poly.reshape(-1)]],
                bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                area=float(cv2.contourArea(poly.astype(np.float32))))


@writer('coco')
def make_coco_instances(root: str, num_train: int = 16, num_val: int = 4, size: int = 128,
                        classes: Sequence[str] = NWPU_VHR10_CLASSES[:3], seed: int = 0) -> Dict[str, str]:
    """Write a COCO instance-segmentation dataset: ``images/{split}/*.png`` and
    ``annotations/instances_{split}.json`` (polygon masks, ``[x, y, w, h]`` boxes, 1-based ids).

    Objects are the rotated rectangles of :func:`make_dota`, so each mask is their polygon.
    """
    rng = np.random.default_rng(seed)
    categories = [dict(id=i + 1, name=name, supercategory='object') for i, name in enumerate(classes)]
    cat_id = {name: i + 1 for i, name in enumerate(classes)}
    out, img_id, ann_id = {}, 1, 1
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir = osp.join(root, 'images', split)
        os.makedirs(img_dir, exist_ok=True)
        images, annotations = [], []
        for _ in range(count):
            img, objects = _draw_scene(rng, size, classes, 4)
            name = f'{img_id:05d}.png'
            cv2.imwrite(osp.join(img_dir, name), img)
            images.append(dict(id=img_id, file_name=name, width=size, height=size))
            for poly, cls in objects:
                annotations.append(dict(id=ann_id, image_id=img_id, category_id=cat_id[cls],
                                        **_polygon_annotation(poly, size)))
                ann_id += 1
            img_id += 1
        ann_file = osp.join(root, 'annotations', f'instances_{split}.json')
        with open(ann_file, 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
        out[split] = ann_file
    return out


@writer('ssdd')
def make_ssdd(root: str, num_train: int = 8, num_val: int = 4, size: int = 128, seed: int = 0) -> Dict[str, str]:
    """Write SSDD in the Official-SSDD-OPEN polygon layout: ``PSeg_SSDD/coco_style/images/{train,test}/
    NNNNNN.jpg`` and ``.../annotations/{train,test}.json`` (one category, ``ship``).

    Files are numbered as in the release, and the split follows its rule (number ending in 1 or 9 =
    test); ``num_val`` images go to ``test``. Images are grey speckled SAR-like scenes with bright
    ships; masks are the ships' polygons.
    """
    rng = np.random.default_rng(seed)
    base = osp.join(root, 'PSeg_SSDD', 'coco_style')
    todo = {'train': num_train, 'test': num_val}
    data = {s: dict(images=[], annotations=[], categories=[dict(id=1, name='ship', supercategory='ship')])
            for s in todo}
    for split in todo:
        os.makedirs(osp.join(base, 'images', split), exist_ok=True)
    number = 0
    while any(todo.values()):
        number += 1
        name = f'{number:06d}.jpg'
        split = ssdd_split_of(name)
        if not todo[split]:
            continue
        todo[split] -= 1
        img, objects = _draw_scene(rng, size, ('ship', ), 3, looks=_SSDD_LOOK)
        speckle = rng.gamma(4.0, 0.25, (size, size))  # multiplicative, 4-look intensity statistics
        grey = (cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) * 0.8 * speckle).clip(0, 255).astype(np.uint8)
        cv2.imwrite(osp.join(base, 'images', split, name), cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
        img_id = number
        data[split]['images'].append(dict(id=img_id, file_name=name, width=size, height=size))
        for poly, _ in objects:
            data[split]['annotations'].append(dict(id=len(data[split]['annotations']) + 1, image_id=img_id,
                                                   category_id=1, **_polygon_annotation(poly, size)))
    os.makedirs(osp.join(base, 'annotations'), exist_ok=True)
    out = {}
    for split, content in data.items():
        out[split] = osp.join(base, 'annotations', f'{split}.json')
        with open(out[split], 'w') as f:
            json.dump(content, f)
    return out


@writer('whu-building')
def make_whu_building(root: str, num_train: int = 8, num_val: int = 4, size: int = 128, seed: int = 0,
                      num_test: int = 0) -> Dict[str, str]:
    """Write WHU building tiles in the official aerial layout: ``{train,val,test}/image/N.tif`` (RGB)
    and ``{train,val,test}/label/N.tif`` (one band, 255 = building, 0 = background).

    Buildings are bright roofs on textured ground: rectangles, some with a courtyard (a hole in the
    mask), some cut by the tile border, and now and then a few-pixel sliver (for ``min_area``).
    """
    rng = np.random.default_rng(seed)
    out, index = {}, 0
    for split, count in (('train', num_train), ('val', num_val), ('test', num_test)):
        if not count:
            continue
        for sub in ('image', 'label'):
            os.makedirs(osp.join(root, split, sub), exist_ok=True)
        for _ in range(count):
            label = np.zeros((size, size), np.uint8)
            for _building in range(int(rng.integers(2, 6))):
                w, h = (rng.uniform(0.1, 0.3, 2) * size).astype(int) + 3
                x, y = rng.integers(-w // 3, size - w // 2), rng.integers(-h // 3, size - h // 2)
                label[max(y, 0):y + h, max(x, 0):x + w] = 255
                if w > 12 and h > 12 and rng.random() < 0.3:  # courtyard
                    label[y + h // 3:y + 2 * h // 3, x + w // 3:x + 2 * w // 3] = 0
            if rng.random() < 0.3:  # sliver
                x, y = rng.integers(0, size - 2, 2)
                label[y:y + 2, x:x + 2] = 255
            ground = rng.normal((90, 120, 100), 14, (size, size, 3))
            roof = rng.normal((200, 200, 210), 10, (size, size, 3))
            img = np.where(label[..., None] > 0, roof, ground).clip(0, 255).astype(np.uint8)
            cv2.imwrite(osp.join(root, split, 'image', f'{index}.tif'), img)
            cv2.imwrite(osp.join(root, split, 'label', f'{index}.tif'), label)
            index += 1
        out[split] = osp.join(root, split)
    return out


@writer('nwpu-vhr10')
def make_nwpu_vhr10(root: str, num_train: int = 8, num_val: int = 4, size: int = 128, seed: int = 0,
                    num_negative: int = 2) -> Dict[str, str]:
    """Write NWPU VHR-10 as released: ``positive image set/NNN.jpg``, ``negative image set/NNN.jpg``,
    ``ground truth/NNN.txt`` (lines ``(x1,y1),(x2,y2),class_id``), plus the instance-mask release's
    ``annotations.json`` (COCO polygons over the positive images, category ids 1..10).

    The release has no split: ``num_train + num_val`` positive images are written and the converters
    split them (:func:`mmrsfm.datasets.converters.nwpu_vhr10.split_names`).
    """
    rng = np.random.default_rng(seed)
    for sub in (POSITIVE_DIR, NEGATIVE_DIR, GT_DIR):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    images, annotations = [], []
    for number in range(1, num_train + num_val + 1):
        img, objects = _draw_scene(rng, size, NWPU_VHR10_CLASSES, 4, looks=_NWPU_LOOK)
        name = f'{number:03d}.jpg'
        cv2.imwrite(osp.join(root, POSITIVE_DIR, name), img)
        images.append(dict(id=number, file_name=name, width=size, height=size))
        lines = []
        for poly, cls in objects:
            cat = NWPU_VHR10_CLASSES.index(cls) + 1
            ann = _polygon_annotation(poly, size)
            annotations.append(dict(id=len(annotations) + 1, image_id=number, category_id=cat, **ann))
            x, y, w, h = ann['bbox']
            lines.append(f'({int(x)},{int(y)}),({int(np.ceil(x + w))},{int(np.ceil(y + h))}),{cat}')
        with open(osp.join(root, GT_DIR, f'{number:03d}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    for number in range(1, num_negative + 1):
        ground = rng.normal(100, 12, (size, size, 3)).clip(0, 255).astype(np.uint8)
        cv2.imwrite(osp.join(root, NEGATIVE_DIR, f'{number:03d}.jpg'), ground)
    categories = [dict(id=i + 1, name=name, supercategory='object') for i, name in enumerate(NWPU_VHR10_CLASSES)]
    ann_file = osp.join(root, 'annotations.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    return dict(positive=osp.join(root, POSITIVE_DIR), ground_truth=osp.join(root, GT_DIR), instances=ann_file)
