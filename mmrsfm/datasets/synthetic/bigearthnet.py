"""BigEarthNet-S2 v1.0 in its released layout (see :mod:`mmrsfm.datasets.bigearthnet`).

Every patch is 12 single-band uint16 GeoTIFFs at their native sizes (120/60/20 pixels for 10/20/60 m)
on a UTM grid, and a metadata json with original (43-class) labels. Each label of the chosen pool
paints a rectangle of its own spectrum (a peak at its own bands) into the scene, so which labels are
present can be learnt by a tiny CNN in a few dozen iterations.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import cv2
import numpy as np

from ._common import write_geotiff, writer

#: Default label pool: original labels that map to five different 19-class labels
#: (Urban fabric, Arable land, Coniferous forest, Inland waters, Marine waters).
DEFAULT_LABELS = ('Continuous urban fabric', 'Non-irrigated arable land', 'Coniferous forest', 'Water bodies',
                  'Sea and ocean')
#: Sentinel-2 L2A tiles the patch names and tile sources are drawn from (UTM zone 32N/33N, as in the release).
_TILES = (('S2A_MSIL2A_20170613T101031', 'T33UUP', 'EPSG:32633', '2017-06-13 10:10:31'),
          ('S2B_MSIL2A_20180204T094159', 'T32TQM', 'EPSG:32632', '2018-02-04 09:41:59'))


def _spectra(count: int, num_bands: int) -> np.ndarray:
    """(count, num_bands) stand-in reflectances: a common base plus, per label, a strong peak on its own bands."""
    centres = (np.arange(count) + 0.5) * num_bands / count
    bands = np.arange(num_bands)
    peaks = np.exp(-0.5 * ((bands[None] - centres[:, None]) / 1.0) ** 2)
    return 900.0 + 2600.0 * peaks


def _scene(rng: np.random.Generator, present: Sequence[int], spectra: np.ndarray, size: int) -> np.ndarray:
    """(size, size, bands) float scene: noisy background with one rectangle per present label, each in its
    own quadrant so none hides another (a hidden label would be label noise)."""
    img = np.full((size, size, spectra.shape[1]), 700.0) + rng.normal(0, 50, (size, size, spectra.shape[1]))
    half = size // 2
    for k, cell in zip(present, rng.permutation(4)):
        h, w = rng.integers(half * 3 // 5, half + 1, 2)
        y0 = cell // 2 * half + rng.integers(0, half - h + 1)
        x0 = cell % 2 * half + rng.integers(0, half - w + 1)
        img[y0:y0 + h, x0:x0 + w] = spectra[k] + rng.normal(0, 60, (h, w, spectra.shape[1]))
    return img


@writer('bigearthnet')
def make_bigearthnet(root: str, num_train: int = 24, num_val: int = 8, num_test: int = 8, seed: int = 0,
                     labels: Optional[Sequence[str]] = None, num_cloudy: int = 2, num_snowy: int = 1,
                     size: int = 120) -> Dict[str, str]:
    """Write BigEarthNet-S2 v1.0's layout::

        BigEarthNet-v1.0/<patch>/<patch>_<band>.tif        12 bands (BIGEARTHNET_BANDS), native sizes, uint16
        BigEarthNet-v1.0/<patch>/<patch>_labels_metadata.json
        train.csv, val.csv, test.csv                       patch names, one a line, no header
        patches_with_cloud_and_shadow.csv                  ``num_cloudy`` extra patches (in no split, as in
        patches_with_seasonal_snow.csv                     the release), ``num_snowy`` likewise

    Each patch has 1-3 labels drawn from ``labels`` (original label names, default
    :data:`DEFAULT_LABELS`); ``size`` must be 120 (the patch size is fixed; the argument exists for the
    command line). Returns ``{'train'|'val'|'test': split csv, 'data_prefix': patch root,
    'cloud_and_shadow'|'seasonal_snow': exclusion csv}``.
    """
    from ..bigearthnet import (BIGEARTHNET_43_CLASSES, BIGEARTHNET_BAND_SIZE, BIGEARTHNET_BANDS,
                               BIGEARTHNET_EXCLUDE_FILES, BIGEARTHNET_FOLDER, BIGEARTHNET_PATCH_SIZE,
                               BIGEARTHNET_SPLIT_FILES)
    from ..sentinel2 import S2_GSD
    if size != BIGEARTHNET_PATCH_SIZE:
        raise ValueError(f'BigEarthNet patches are {BIGEARTHNET_PATCH_SIZE} pixels; got size={size}')
    pool = list(DEFAULT_LABELS if labels is None else labels)
    unknown = [lb for lb in pool if lb not in BIGEARTHNET_43_CLASSES]
    if unknown or not pool:
        raise ValueError(f'labels {unknown or pool} are not BigEarthNet original labels (BIGEARTHNET_43_CLASSES)')
    from rasterio.crs import CRS  # only the GeoTIFF writers need rasterio
    rng = np.random.default_rng(seed)
    spectra = _spectra(len(pool), len(BIGEARTHNET_BANDS))
    patch_root = osp.join(root, BIGEARTHNET_FOLDER)
    os.makedirs(patch_root, exist_ok=True)
    counts = dict(train=num_train, val=num_val, test=num_test, cloud_and_shadow=num_cloudy, seasonal_snow=num_snowy)
    out: Dict[str, str] = {'data_prefix': patch_root}
    index = 0
    for group, count in counts.items():
        names = []
        for _ in range(count):
            prefix, tile, crs, date = _TILES[index % len(_TILES)]
            col, row = index % 50, index // 50
            name = f'{prefix}_{col}_{row}'
            folder = osp.join(patch_root, name)
            os.makedirs(folder, exist_ok=True)
            present = sorted(rng.choice(len(pool), size=int(rng.integers(1, min(3, len(pool)) + 1)), replace=False))
            img = _scene(rng, present, spectra, size)
            ulx, uly = 300000.0 + col * 1200.0, 5400000.0 - row * 1200.0  # patches are 1.2 km apart, as tiled
            for b, band in enumerate(BIGEARTHNET_BANDS):
                side = BIGEARTHNET_BAND_SIZE[band]
                plane = img[..., b] if side == size else cv2.resize(img[..., b], (side, side),
                                                                   interpolation=cv2.INTER_AREA)
                write_geotiff(osp.join(folder, f'{name}_{band}.tif'), plane, gsd=float(S2_GSD[band]), crs=crs,
                              origin=(ulx, uly))
            meta = dict(labels=[pool[k] for k in present],
                        coordinates=dict(ulx=ulx, uly=uly, lrx=ulx + 1200.0, lry=uly - 1200.0),
                        projection=CRS.from_string(crs).to_wkt(),
                        tile_source=f'{prefix.replace("MSIL2A", "MSIL1C")}_N0205_R022_{tile}_{prefix[-15:]}',
                        acquisition_date=date)
            with open(osp.join(folder, f'{name}_labels_metadata.json'), 'w') as f:
                json.dump(meta, f)
            names.append(name)
            index += 1
        file_name = (BIGEARTHNET_SPLIT_FILES.get(group)
                     or BIGEARTHNET_EXCLUDE_FILES[0 if group == 'cloud_and_shadow' else 1])
        out[group] = osp.join(root, file_name)
        with open(out[group], 'w') as f:
            f.write(''.join(f'{n}\n' for n in names))
    return out
