"""WHU building dataset (aerial imagery, Ji et al., TGRS 2019) -> COCO instance annotations.

The official aerial release ("3. The cropped image tiles and raster labels") holds 8189 tiles of
512x512 px at 0.3 m over Christchurch: ``{train,val,test}/image/*.tif`` (RGB) and
``{train,val,test}/label/*.tif`` with the same file names, single-band masks 255 = building,
0 = background (4736 / 1036 / 2416 tiles). The masks are semantic; instances are their connected
components:

- connectivity 8 by default (two buildings touching only at a corner are one instance: in the
  raster they cannot be told apart);
- components smaller than ``min_area`` px are dropped and counted (default 10 px: slivers of
  buildings cut by the tile border, far below COCO's 32x32 "small" bucket);
- each instance is encoded exactly (:mod:`.coco_masks`): edge polygons, RLE when it has a courtyard.

Writes ``{out_dir}/whu_building_{split}.json`` with ``file_name`` relative to ``{split}/image/``.
Layout verified from public code that reads the release (file names and 0/255 masks); the
converter is our own.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from ..file_checks import IMG_EXTENSIONS, DatasetFormatError, check_same_size, image_size, read_image
from .coco_masks import mask_to_instances

WHU_BUILDING_CLASSES = ('building', )
#: Tile extensions taken: :data:`~mmrsfm.datasets.file_checks.IMG_EXTENSIONS` less the lossy JPEG
#: ones, because a label shares its image's file name and a JPEG mask would not hold exact 0/255 values.
TILE_EXTENSIONS = tuple(e for e in IMG_EXTENSIONS if e not in ('.jpg', '.jpeg'))


def _read_binary_label(path: str, foreground: int) -> np.ndarray:
    """The 0/``foreground`` mask of one tile; any other value is an error naming the values."""
    label = read_image(path)
    if label.ndim == 3:  # some copies store the mask as 3 identical bands
        if not all(np.array_equal(label[..., 0], label[..., c]) for c in range(1, label.shape[2])):
            raise DatasetFormatError(f"'{path}' has {label.shape[2]} different bands; a WHU label is one band "
                                     f'with 0 = background and {foreground} = building')
        label = label[..., 0]
    values, counts = np.unique(label, return_counts=True)
    bad = {int(v): int(n) for v, n in zip(values, counts) if v not in (0, foreground)}
    if bad:
        raise DatasetFormatError(f"'{path}' has label values {bad} (value: pixels) besides 0 and {foreground}. "
                                 f'Fix: pass the WHU building label folder, or set foreground_value '
                                 f'(--foreground-value) to the value buildings have.')
    return label == foreground


def convert_whu_building(src: str, out_dir: Optional[str] = None, splits: Sequence[str] = ('train', 'val', 'test'),
                         min_area: int = 10, connectivity: int = 8, foreground_value: int = 255) -> Dict[str, str]:
    """Convert the WHU building masks of each split present under ``src`` to COCO json.

    Args:
        src: The release folder holding ``{split}/image`` and ``{split}/label``.
        out_dir: Where the json files go; defaults to ``{src}/annotations``.
        splits: Splits to convert; a split without a folder is skipped (logged).
        min_area: Components with fewer pixels are dropped (counted in the log).
        connectivity: 8 or 4, see the module docstring.
        foreground_value: Label value of buildings (255 in the release).

    Returns:
        ``{split: json path}``.
    """
    out_dir = out_dir or osp.join(src, 'annotations')
    os.makedirs(out_dir, exist_ok=True)
    written = {}
    for split in splits:
        img_dir, label_dir = osp.join(src, split, 'image'), osp.join(src, split, 'label')
        if not osp.isdir(img_dir):
            print_log(f"WHU building: no '{img_dir}', split {split} skipped", logger='current')
            continue
        if not osp.isdir(label_dir):
            raise FileNotFoundError(f"WHU building {split}: '{img_dir}' exists but '{label_dir}' does not")
        names = sorted(f for f in os.listdir(img_dir) if f.lower().endswith(TILE_EXTENSIONS))
        images, annotations, dropped, empty = [], [], 0, 0
        for img_id, name in enumerate(names, start=1):
            img_path, label_path = osp.join(img_dir, name), osp.join(label_dir, name)
            if not osp.isfile(label_path):
                raise FileNotFoundError(f"WHU building: image '{img_path}' has no label '{label_path}'. Fix: "
                                        f'restore it from the release or remove the image.')
            height, width = image_size(img_path)
            mask = _read_binary_label(label_path, foreground_value)
            check_same_size(img_path, (height, width), label_path, mask.shape)
            instances, n_dropped = mask_to_instances(mask, min_area, connectivity)
            dropped += n_dropped
            empty += not instances
            images.append(dict(id=img_id, file_name=name, height=height, width=width))
            for inst in instances:
                annotations.append(dict(id=len(annotations) + 1, image_id=img_id, category_id=1, **inst))
        path = osp.join(out_dir, f'whu_building_{split}.json')
        with open(path, 'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=[dict(id=1, name='building', supercategory='building')]), f)
        print_log(f'WHU building {split}: {len(images)} tiles, {len(annotations)} buildings, {empty} tiles without '
                  f'buildings, {dropped} components < {min_area} px dropped -> {path}', logger='current')
        written[split] = path
    if not written:
        raise FileNotFoundError(f"no WHU building split folder ({'/'.join(splits)}/image) under '{src}'")
    return written
