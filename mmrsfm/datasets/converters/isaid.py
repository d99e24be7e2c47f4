"""Crop the iSAID release into mmseg's ``iSAIDDataset`` layout (``img_dir/{train,val,test}``,
``ann_dir/{train,val}``, labels as class-index PNGs named ``<patch>_instance_color_RGB.png``).

Release layout (what mmseg 1.2.2's own converter, ``mmseg/.mim/tools/dataset_converters/isaid.py`` of
the pip package, reads; the iSAID images are the DOTA-v1.0 ones, up to ~4000 px)::

    iSAID/{train,val,test}/images/part*.zip         members images/P0000.png, ...
    iSAID/{train,val}/Semantic_masks/images.zip     members images/P0000_instance_color_RGB.png

Why not mmseg's converter: on our stack (Pillow 13) it writes every label patch through
``Image.fromarray(..., mode='P')`` without a palette, and Pillow saves those as 1-bit PNGs: all 16
classes collapse to {0, 1}, silently (measured on the synthetic release). It also maps colours outside
the palette to background without a word. This converter writes 8-bit labels with OpenCV and fails on
an unknown colour, naming the member (``ignore_unknown`` maps them to 255 instead). Patch names and
windows follow mmseg's (896 px, 384 px overlap, the last window aligned to the border), so configs and
numbers stay comparable; images smaller than a patch are kept at their size instead of padded.
"""
import os
import os.path as osp
import zipfile
from glob import glob
from typing import Dict, Iterator, Optional, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

from ..file_checks import DatasetFormatError, check_same_size
from ..label_checks import IGNORE_INDEX
from ..transforms.paired_seg import colours_to_ids
from .potsdam import crop_windows

LABEL_SUFFIX = '_instance_color_RGB.png'
SPLITS = ('train', 'val', 'test')


def isaid_colour_table() -> Dict[int, int]:
    """Label colour code (R * 65536 + G * 256 + B) -> class index of mmseg's ``iSAIDDataset`` (0 = background)."""
    from mmseg.datasets import iSAIDDataset
    return {(r << 16) | (g << 8) | b: i for i, (r, g, b) in enumerate(iSAIDDataset.METAINFO['palette'])}


def _members(folder: str) -> Iterator[Tuple[str, str, bytes]]:
    """``(zip path, member name, bytes)`` of every PNG in the zips of ``folder`` (read in place)."""
    for path in sorted(glob(osp.join(folder, '*.zip'))):
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                if name.lower().endswith('.png'):
                    yield path, name, archive.read(name)


def _decode(data: bytes, where: str, flags: int) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if img is None:
        raise DatasetFormatError(f"'{where}' is not a readable PNG. Fix: re-download the release zip.")
    return img


def convert_isaid(src: str, out_dir: str, crop_size: int = 896, overlap: int = 384,
                  ignore_unknown: bool = False) -> Dict[str, int]:
    """Crop ``src/{train,val}`` images and labels into ``crop_size`` patches; copy ``src/test`` images whole.

    Args:
        src: The release root holding ``train/``, ``val/`` (and optionally ``test/``).
        out_dir: Output root (``img_dir/``, ``ann_dir/``).
        crop_size: Patch side. Defaults to 896 (mmseg's and the RS-vHeat config's).
        overlap: Overlap of neighbouring patches. Defaults to 384.
        ignore_unknown: Map label colours outside the iSAID palette to 255 instead of raising.

    Returns:
        Patches (train, val) or images (test) written per split.

    Raises:
        FileNotFoundError: ``train`` / ``val`` zips are missing, or an image has no label (or vice versa).
        DatasetFormatError: An unreadable member, an image / label size mismatch, or an unknown colour.
    """
    if not 0 <= overlap < crop_size:
        raise ValueError(f'overlap must be in [0, crop_size), got overlap={overlap}, crop_size={crop_size}')
    table = isaid_colour_table()
    expected = 'the 16 colours of mmseg iSAIDDataset.METAINFO["palette"], codes R * 65536 + G * 256 + B'
    counts: Dict[str, int] = {}
    for split in SPLITS:
        images = {osp.basename(n)[:-4]: (z, n, d) for z, n, d in _members(osp.join(src, split, 'images'))}
        if split == 'test':
            if images:
                os.makedirs(osp.join(out_dir, 'img_dir', split), exist_ok=True)
                for stem, (_, _, data) in images.items():
                    with open(osp.join(out_dir, 'img_dir', split, f'{stem}.png'), 'wb') as f:
                        f.write(data)
                counts[split] = len(images)
            continue
        labels = {osp.basename(n)[:-len(LABEL_SUFFIX)]: (z, n, d)
                  for z, n, d in _members(osp.join(src, split, 'Semantic_masks')) if n.endswith(LABEL_SUFFIX)}
        if not images or not labels:
            raise FileNotFoundError(f"iSAID {split}: no PNGs in {osp.join(src, split, 'images')}/*.zip or "
                                    f"{osp.join(src, split, 'Semantic_masks')}/*.zip. Fix: pass the release root "
                                    f'holding train/ and val/ as downloaded (zips need not be extracted).')
        unpaired = sorted(set(images) ^ set(labels))
        if unpaired:
            raise FileNotFoundError(f'iSAID {split}: {len(unpaired)} image(s) without a label or label(s) without '
                                    f'an image, e.g. {unpaired[:5]}. Fix: use complete release zips.')
        for sub in ('img_dir', 'ann_dir'):
            os.makedirs(osp.join(out_dir, sub, split), exist_ok=True)
        counts[split] = 0
        for stem in sorted(images):
            zip_img, name_img, data_img = images[stem]
            zip_lbl, name_lbl, data_lbl = labels[stem]
            where_img, where_lbl = f'{zip_img}:{name_img}', f'{zip_lbl}:{name_lbl}'
            img = _decode(data_img, where_img, cv2.IMREAD_COLOR)
            rgb = _decode(data_lbl, where_lbl, cv2.IMREAD_COLOR)[..., ::-1]
            check_same_size(where_img, img.shape[:2], where_lbl, rgb.shape[:2])
            ann = colours_to_ids(rgb, table, where_lbl, 'iSAID', expected, check=not ignore_unknown)
            if ignore_unknown and (ann == IGNORE_INDEX).any():
                print_log(f'{where_lbl}: {int((ann == IGNORE_INDEX).sum())} px of unknown colours ignored (255)',
                          logger='current')
            height, width = ann.shape
            for x0, y0, x1, y1 in crop_windows(height, width, crop_size, crop_size - overlap):
                patch = f'{stem}_{y0}_{y1}_{x0}_{x1}'  # mmseg's naming
                cv2.imwrite(osp.join(out_dir, 'img_dir', split, f'{patch}.png'), img[y0:y1, x0:x1])
                cv2.imwrite(osp.join(out_dir, 'ann_dir', split, f'{patch}{LABEL_SUFFIX}'), ann[y0:y1, x0:x1])
                counts[split] += 1
    print_log(f"iSAID -> '{out_dir}': " + ', '.join(f'{k}: {v}' for k, v in counts.items()), logger='current')
    return counts
