"""Synthetic WHU-OPT-SAR in the release layout (see :mod:`mmrsfm.datasets.whu_opt_sar`), built so that
fusing the modalities is necessary: farmland, city, village and water are told apart only by the
optical image (forest, road and others share one optical look), forest, road and others only by the
SAR image (the first four share one backscatter level). An optical-only model therefore confuses the
last three classes, a SAR-only model the first four, and only a fused model can get all seven."""
import os
import os.path as osp
from typing import Dict

import numpy as np

from ._common import write_geotiff, writer

#: Classes (training ids) visible only in the optical image, and only in the SAR image.
OPTICAL_ONLY_CLASSES = (0, 1, 2, 3)
SAR_ONLY_CLASSES = (4, 5, 6)
# Optical R, G, B, NIR per training id; the SAR-only classes share the last look.
_OPT_LOOK = np.array([[200, 190, 60, 150], [210, 60, 60, 70], [120, 120, 200, 90], [30, 60, 140, 20],
                      [90, 140, 90, 180], [90, 140, 90, 180], [90, 140, 90, 180]], np.float32)
# Mean SAR backscatter (8 bit) per training id; the optical-only classes share the first level.
_SAR_LEVEL = np.array([90, 90, 90, 90, 30, 160, 235], np.float32)
_BLOCK = 16  # side of the square regions, in pixels


@writer('whu-opt-sar')
def make_whu_opt_sar(root: str, num_train: int = 4, num_val: int = 1, size: int = 96,
                     seed: int = 0) -> Dict[str, str]:
    """Write ``num_train + num_val`` tiles of ``size`` x ``1.5 * size`` px (the release's aspect):
    ``optical/<tile>.tif`` (4 bands), ``sar/<tile>.tif`` (1 band) and ``lbl/<tile>.tif`` (values 0
    and 10..70), 8-bit GeoTIFFs on one UTM grid per tile. The release has no split, so neither does
    this; :func:`mmrsfm.datasets.convert_whu_opt_sar` makes one (every 5th tile validation).

    Content: ``_BLOCK`` px regions of random classes (about 4% unlabelled background of random look);
    optical with Gaussian noise, SAR with 16-look gamma speckle.
    """
    from ..whu_opt_sar import WHU_OPT_SAR_BACKGROUND, WHU_OPT_SAR_FOLDERS, WHU_OPT_SAR_LABEL_VALUES
    rng = np.random.default_rng(seed)
    height, width = size, int(round(size * 1.5 / _BLOCK)) * _BLOCK
    folders = {k: osp.join(root, v) for k, v in WHU_OPT_SAR_FOLDERS.items()}
    for folder in folders.values():
        os.makedirs(folder, exist_ok=True)
    values = np.array(WHU_OPT_SAR_LABEL_VALUES + (WHU_OPT_SAR_BACKGROUND, ), np.uint8)
    for i in range(num_train + num_val):
        gh, gw = -(-height // _BLOCK), -(-width // _BLOCK)
        ids = rng.integers(0, len(WHU_OPT_SAR_LABEL_VALUES), (gh, gw))
        ids[rng.random((gh, gw)) < 0.04] = len(WHU_OPT_SAR_LABEL_VALUES)  # background
        ids = np.kron(ids, np.ones((_BLOCK, _BLOCK), int))[:height, :width]
        background = ids == len(WHU_OPT_SAR_LABEL_VALUES)
        cls = np.where(background, 0, ids)
        opt = _OPT_LOOK[cls] + rng.normal(0, 12, (height, width, 4))
        opt[background] = rng.uniform(0, 255, (int(background.sum()), 4))
        sar = _SAR_LEVEL[cls] * rng.gamma(16, 1 / 16, (height, width))
        sar[background] = rng.uniform(0, 255, int(background.sum()))
        name = f'NH49E{i + 1:03d}013.tif'
        origin = (500000.0 + 30000.0 * i, 3500000.0)  # UTM 49N, as the release's NH49 tiles
        write_geotiff(osp.join(folders['opt'], name), opt, dtype='uint8', gsd=5.0, crs='EPSG:32649', origin=origin)
        write_geotiff(osp.join(folders['sar'], name), sar, dtype='uint8', gsd=5.0, crs='EPSG:32649', origin=origin)
        write_geotiff(osp.join(folders['label'], name), values[ids], dtype='uint8', gsd=5.0, crs='EPSG:32649',
                      origin=origin)
    return {'release': root}
