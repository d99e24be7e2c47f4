"""Multispectral Sentinel-2 datasets: SegMunich-style segmentation and a GeoTIFF folder for pretraining.

Images are multi-band GeoTIFFs (UTM 32N, 10 m pixels) whose bands carry their Sentinel-2 names as
band descriptions and declare nodata 0; a few pixels of each image are nodata, so loaders must
handle it. Land covers have their own spectral signatures, so segmentation is learnable from the
spectra alone.
"""
import os
import os.path as osp
from typing import Dict

import cv2
import numpy as np

from ..sentinel2 import S2_BANDS
from ._common import write_geotiff, writer

NODATA = 0


def _signatures(rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 13) stand-in L1C digital numbers per class and :data:`S2_BANDS` band: smooth random
    spectra (a random walk over the bands), clearly apart from each other."""
    steps = rng.normal(0, 350, (count, len(S2_BANDS)))
    return (rng.uniform(800, 2500, (count, 1)) + np.cumsum(steps, axis=1)).clip(100, 6000)


def _scene(rng: np.random.Generator, size: int, signatures: np.ndarray, noise: float = 60.0) -> tuple:
    """(size, size, 13) float image of 2-5 class patches on a random base class, and its class map
    (no class dominates, as in a land-use mosaic)."""
    classes = np.full((size, size), rng.integers(len(signatures)), np.int64)
    for _ in range(int(rng.integers(2, 6))):
        x0, y0 = rng.integers(0, size * 3 // 4, 2)
        w, h = rng.integers(size // 4, size // 2 + 1, 2)
        classes[y0:y0 + h, x0:x0 + w] = rng.integers(len(signatures))
    img = signatures[classes] * rng.uniform(0.9, 1.1) + rng.normal(0, noise, (size, size, len(S2_BANDS)))
    return img, classes


def _with_nodata(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mark a short run of pixels of the first row as nodata in every band (a scene-edge artefact)."""
    img = img.copy()
    start = int(rng.integers(0, img.shape[1] - 4))
    img[0, start:start + 4] = NODATA
    return img


@writer('segmunich')
def make_segmunich(root: str, num_train: int = 16, num_val: int = 4, size: int = 64,
                   seed: int = 0) -> Dict[str, str]:
    """Write SegMunich's layout (as read by the official SpectralGPT loader and
    :class:`mmrsfm.datasets.SegMunichDataset`)::

        dataset/{train,val}.txt        sample ids, one per line
        {train,val}/img/<id>.tif       10-band uint16 GeoTIFF (``SEGMUNICH_BANDS``, described, nodata 0)
        {train,val}/label/<id>.tif     1-band uint8 GeoTIFF of label-file values (``SEGMUNICH_LABEL_VALUES``)

    Each image's class patches have per-class spectra; where a pixel is nodata its label is still
    the land cover underneath (so ``IgnoreNoDataLabels`` has something to do).
    Returns ``{split: image folder}``.
    """
    from ..segmunich import SEGMUNICH_BANDS, SEGMUNICH_CLASSES, SEGMUNICH_LABEL_VALUES  # needs mmseg
    rng = np.random.default_rng(seed)
    signatures = _signatures(rng, len(SEGMUNICH_CLASSES))
    band_index = [S2_BANDS.index(b) for b in SEGMUNICH_BANDS]
    values = np.array(SEGMUNICH_LABEL_VALUES, np.uint8)
    os.makedirs(osp.join(root, 'dataset'), exist_ok=True)
    out, index = {}, 0
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir, label_dir = osp.join(root, split, 'img'), osp.join(root, split, 'label')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(label_dir, exist_ok=True)
        ids = []
        for _ in range(count):
            img, classes = _scene(rng, size, signatures)
            name = str(index)
            write_geotiff(osp.join(img_dir, f'{name}.tif'), _with_nodata(img[..., band_index], rng), SEGMUNICH_BANDS,
                          nodata=NODATA)
            write_geotiff(osp.join(label_dir, f'{name}.tif'), values[classes], ['label'], dtype='uint8')
            ids.append(name)
            index += 1
        with open(osp.join(root, 'dataset', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(ids) + '\n')
        out[split] = img_dir
    return out


@writer('s2-folder')
def make_s2_folder(root: str, num_train: int = 16, num_val: int = 0, size: int = 64,
                   seed: int = 0) -> Dict[str, str]:
    """Write a flat folder ``images/<n>.tif`` of 13-band Sentinel-2 L1C GeoTIFFs (uint16, bands
    described B01..B12 and B8A in ESA order, nodata 0) for self-supervised pretraining, read by
    ``MultiModalImageFolder(modalities=('s2', ))`` + ``LoadMultiBandImage``; ``num_val`` is unused.
    Scenes are smooth (low-frequency land-cover fields), so masked patches are predictable.
    Returns ``{'train': folder}``.
    """
    rng = np.random.default_rng(seed)
    signatures = _signatures(rng, 6)
    folder = osp.join(root, 'images')
    os.makedirs(folder, exist_ok=True)
    for i in range(num_train):
        low = cv2.resize(rng.random((4, 4)), (size, size), interpolation=cv2.INTER_CUBIC)
        cover = np.digitize(low, np.quantile(low, [0.2, 0.4, 0.6, 0.8]))
        img = signatures[cover] + rng.normal(0, 40, (size, size, len(S2_BANDS)))
        write_geotiff(osp.join(folder, f'{i:05d}.tif'), _with_nodata(img, rng), S2_BANDS, nodata=NODATA)
    return {'train': folder}
