"""Semantic-segmentation datasets: LoveDA."""
import os
import os.path as osp
from typing import Dict

import cv2
import numpy as np

from ._common import writer

#: LoveDA's label values: 0 is no-data (ignored via ``reduce_zero_label``), 1..7 the classes.
LOVEDA_CLASSES = ('background', 'building', 'road', 'water', 'barren', 'forest', 'agricultural')


@writer('loveda')
def make_loveda(root: str, num_train: int = 16, num_val: int = 4, size: int = 64,
                seed: int = 0) -> Dict[str, str]:
    """Write LoveDA in the layout mmseg's LoveDA converter produces and ``LoveDADataset`` reads:
    ``img_dir/{train,val}/N.png`` (RGB) and ``ann_dir/{train,val}/N.png`` (uint8 labels 0..7).

    Each image is class 1 (background) with a few axis-aligned patches of other classes, each class
    with its own colour, and a no-data (0) border row so ignore handling is exercised.
    """
    rng = np.random.default_rng(seed)
    colours = rng.integers(30, 226, (len(LOVEDA_CLASSES) + 1, 3))
    out, index = {}, 0
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir, ann_dir = osp.join(root, 'img_dir', split), osp.join(root, 'ann_dir', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for _ in range(count):
            label = np.ones((size, size), np.uint8)
            for _patch in range(int(rng.integers(2, 5))):
                x0, y0 = rng.integers(0, size * 3 // 4, 2)
                w, h = rng.integers(size // 6, size // 2, 2)
                label[y0:y0 + h, x0:x0 + w] = rng.integers(2, len(LOVEDA_CLASSES) + 1)
            label[0] = 0
            img = colours[label] + rng.normal(0, 8, (size, size, 3))
            cv2.imwrite(osp.join(img_dir, f'{index}.png'), img.clip(0, 255).astype(np.uint8))
            cv2.imwrite(osp.join(ann_dir, f'{index}.png'), label)
            index += 1
        out[split] = img_dir
    return out
