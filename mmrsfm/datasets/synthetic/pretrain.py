"""Unlabelled image folders for self-supervised pretraining."""
import os
import os.path as osp
from typing import Dict

import cv2
import numpy as np

from ._common import _draw_scene, writer


@writer('optsar')
def make_optical_sar_pairs(root: str, num_train: int = 16, num_val: int = 0, size: int = 64,
                           seed: int = 0) -> Dict[str, str]:
    """Write co-registered pairs ``optical/N.png`` (3 bands) and ``sar/N.png`` (1 band, speckled
    backscatter of the same objects) for self-supervised pretraining; ``num_val`` is unused."""
    rng = np.random.default_rng(seed)
    dirs = {m: osp.join(root, m) for m in ('optical', 'sar')}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    for i in range(num_train):
        img, objects = _draw_scene(rng, size, ('plane', 'ship', 'storage-tank'), 4)
        mask = np.zeros((size, size), np.uint8)
        for poly, _ in objects:
            cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
        backscatter = 40 + 160 * mask.astype(np.float64)
        sar = backscatter * rng.gamma(4.0, 1 / 4.0, mask.shape)  # 4-look multiplicative speckle
        cv2.imwrite(osp.join(dirs['optical'], f'{i:05d}.png'), img)
        cv2.imwrite(osp.join(dirs['sar'], f'{i:05d}.png'), sar.clip(0, 255).astype(np.uint8))
    return dirs
