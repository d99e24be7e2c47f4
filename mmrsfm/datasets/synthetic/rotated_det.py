"""Rotated-detection datasets: DOTA."""
import os
import os.path as osp
from typing import Dict, Sequence

import cv2
import numpy as np

from ._common import _draw_scene, writer

#: The 18 DOTA v2.0 categories, spelled as in its label files.
DOTA_V2_CLASSES = ('plane', 'baseball-diamond', 'bridge', 'ground-track-field', 'small-vehicle',
                   'large-vehicle', 'ship', 'tennis-court', 'basketball-court', 'storage-tank',
                   'soccer-ball-field', 'roundabout', 'harbor', 'swimming-pool', 'helicopter',
                   'container-crane', 'airport', 'helipad')


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
    unknown = sorted(set(classes) - set(DOTA_V2_CLASSES))
    if unknown:
        raise ValueError(f'classes {unknown} are not DOTA v2.0 categories: {DOTA_V2_CLASSES}')
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
