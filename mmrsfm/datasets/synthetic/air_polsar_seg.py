"""Synthetic AIR-PolSAR-Seg in the release layout (see :mod:`mmrsfm.datasets.air_polsar_seg`), built so
that the polarisations are needed together: natural and land use have the same co-polarised (HH, VV)
amplitudes and differ only in cross-polarised (HV, VH) return, i.e. in the cross/co-pol ratio; housing
and natural share the cross-pol level and differ in co-pol. No single band separates all six classes;
the 4-band stack does."""
import os
import os.path as osp
from typing import Dict

import numpy as np

from ._common import write_geotiff, writer

# Mean amplitude (16-bit DN) per training id: HH, HV, VH, VV (reciprocity: HV = VH).
_AMPLITUDE = np.array([[1200, 300, 300, 1000],    # housing: co-pol bright, cross-pol as natural
                       [2400, 600, 600, 2000],    # industrial
                       [600, 300, 300, 600],      # natural: volume scattering, high cross/co ratio
                       [600, 75, 75, 600],        # land use: natural's co-pol, low cross/co ratio
                       [60, 15, 15, 80],          # water
                       [300, 150, 150, 300]], np.float32)  # other
_BLOCK = 16  # side of the square class regions, in pixels
_LOOKS = 8  # speckle: amplitude of an 8-look intensity


@writer('air-polsar-seg')
def make_air_polsar_seg(root: str, num_train: int = 8, num_val: int = 2, size: int = 64,
                        seed: int = 0) -> Dict[str, str]:
    """Write ``num_train`` patches to ``train_set/`` and ``num_val`` to ``test_set/``, each
    ``<patch>_{HH,HV,VH,VV}.tiff`` (1 band, uint16 amplitude, no CRS) + ``<patch>_gt.png`` (RGB
    colours of the release). ``_BLOCK`` px regions of random classes, about 4% unlabelled black.
    """
    from ..air_polsar_seg import (AIR_POLSAR_SEG_BACKGROUND, AIR_POLSAR_SEG_PALETTE, AIR_POLSAR_SEG_POLARISATIONS,
                                  AIR_POLSAR_SEG_SPLITS, IMAGE_SUFFIX, LABEL_SUFFIX)
    from PIL import Image
    rng = np.random.default_rng(seed)
    colours = np.array(AIR_POLSAR_SEG_PALETTE + [list(AIR_POLSAR_SEG_BACKGROUND)], np.uint8)
    n_cls = len(AIR_POLSAR_SEG_PALETTE)
    out = {}
    index = 0
    for split, count in (('train', num_train), ('test', num_val)):
        folder = osp.join(root, AIR_POLSAR_SEG_SPLITS[split])
        os.makedirs(folder, exist_ok=True)
        out[split] = folder
        for _ in range(count):
            grid = -(-size // _BLOCK)
            ids = rng.integers(0, n_cls, (grid, grid))
            ids[rng.random((grid, grid)) < 0.04] = n_cls  # unlabelled
            ids = np.kron(ids, np.ones((_BLOCK, _BLOCK), int))[:size, :size]
            mean = _AMPLITUDE[np.minimum(ids, n_cls - 1)]  # unlabelled pixels look like "other"
            amp = mean * np.sqrt(rng.gamma(_LOOKS, 1 / _LOOKS, mean.shape))
            name = f'{index:04d}'
            for b, pol in enumerate(AIR_POLSAR_SEG_POLARISATIONS):
                write_geotiff(osp.join(folder, f'{name}_{pol}{IMAGE_SUFFIX}'), amp[..., b], dtype='uint16',
                              gsd=8.0, crs=None)
            Image.fromarray(colours[ids]).save(osp.join(folder, f'{name}{LABEL_SUFFIX}'))
            index += 1
    return out
