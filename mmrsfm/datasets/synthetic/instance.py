"""Instance-segmentation datasets in COCO format."""
import json
import os
import os.path as osp
from typing import Dict, Sequence

import cv2
import numpy as np

from ._common import _draw_scene, writer

#: The 10 NWPU VHR-10 categories.
NWPU_VHR10_CLASSES = ('airplane', 'ship', 'storage tank', 'baseball diamond', 'tennis court',
                      'basketball court', 'ground track field', 'harbor', 'bridge', 'vehicle')


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
                x0, y0 = poly.min(0).clip(0, size)
                x1, y1 = poly.max(0).clip(0, size)
                annotations.append(dict(
                    id=ann_id, image_id=img_id, category_id=cat_id[cls], iscrowd=0,
                    segmentation=[[round(float(v), 1) for v in poly.reshape(-1)]],
                    bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                    area=float(cv2.contourArea(poly.astype(np.float32)))))
                ann_id += 1
            img_id += 1
        ann_file = osp.join(root, 'annotations', f'instances_{split}.json')
        with open(ann_file, 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
        out[split] = ann_file
    return out
