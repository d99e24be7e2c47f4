"""Synthetic iSAID in the release layout that mmseg's converter reads
(``mmseg/.mim/tools/dataset_converters/isaid.py`` of the installed mmseg 1.2.2)::

    <root>/{train,val,test}/images/part1.zip        members images/P0000.png, ... (RGB)
    <root>/{train,val}/Semantic_masks/images.zip    members images/P0000_instance_color_RGB.png

Labels use mmseg's iSAID colours (``iSAIDDataset.METAINFO['palette']``, class 0 = background); each
class has its own image colour, so a short training run moves the mIoU.
"""
import io
import os
import os.path as osp
import zipfile
from typing import Dict

import numpy as np

from ._common import writer

_BLOCK = 16  # side of the square class regions, in pixels
_BACKGROUND_SHARE = 0.2  # iSAID is mostly background; fewer here, so a short run learns the rest


def _png(array: np.ndarray) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buf, format='PNG')
    return buf.getvalue()


@writer('isaid')
def make_isaid(root: str, num_train: int = 4, num_val: int = 1, size: int = 96, seed: int = 0) -> Dict[str, str]:
    """Write ``num_train`` / ``num_val`` / 1 test image(s) of ``size`` x ``4/3 * size`` px (iSAID images
    vary in size; the converter crops them into patches) as the release's zips."""
    from mmseg.datasets import iSAIDDataset
    palette = np.array(iSAIDDataset.METAINFO['palette'], np.uint8)
    n_cls = len(palette)
    rng = np.random.default_rng(seed)
    looks = np.random.default_rng(1234).integers(20, 236, (n_cls, 3)).astype(np.float32)  # one colour per class
    height, width = size, int(round(size * 4 / 3 / _BLOCK)) * _BLOCK
    index = 0
    for split, count in (('train', num_train), ('val', num_val), ('test', 1)):
        os.makedirs(osp.join(root, split, 'images'), exist_ok=True)
        images = zipfile.ZipFile(osp.join(root, split, 'images', 'part1.zip'), 'w')
        masks = None
        if split != 'test':  # the release has no test labels
            os.makedirs(osp.join(root, split, 'Semantic_masks'), exist_ok=True)
            masks = zipfile.ZipFile(osp.join(root, split, 'Semantic_masks', 'images.zip'), 'w')
        for _ in range(count):
            gh, gw = -(-height // _BLOCK), -(-width // _BLOCK)
            ids = rng.integers(1, n_cls, (gh, gw))
            ids[rng.random((gh, gw)) < _BACKGROUND_SHARE] = 0
            ids = np.kron(ids, np.ones((_BLOCK, _BLOCK), int))[:height, :width]
            img = np.clip(looks[ids] + rng.normal(0, 10, (height, width, 3)), 0, 255)
            name = f'P{index:04d}'
            images.writestr(f'images/{name}.png', _png(img))
            if masks is not None:
                masks.writestr(f'images/{name}_instance_color_RGB.png', _png(palette[ids]))
            index += 1
        images.close()
        if masks is not None:
            masks.close()
    return {'release': root}
