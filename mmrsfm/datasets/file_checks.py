"""Checks shared by the dataset classes and the converters: every problem with a file on disk is
reported with the file, what is wrong, and the fix, instead of surfacing later as a shape error in a
transform or a silently dropped sample.
"""
import os.path as osp
from collections import Counter
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log


#: Image file extensions every folder-scanning reader here accepts (compared lower-cased).
IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')


class DatasetFormatError(ValueError):
    """A dataset file does not match the format it claims; the message names the file and the fix."""


def missing_image(path: str) -> FileNotFoundError:
    """The error of every image reader here for a file that does not exist."""
    return FileNotFoundError(f"image '{path}' does not exist")


def unreadable_image(path: str, reason: str) -> DatasetFormatError:
    """The error of every image reader here for a file that exists but cannot be decoded."""
    return DatasetFormatError(f"'{path}' is not a readable image ({reason}). Fix: re-extract or re-download "
                              f'this file from the official release (or re-export it, if you made it).')


def image_size(path: str) -> Tuple[int, int]:
    """(height, width) of an image from its header only (cheap enough for every file of a dataset).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DatasetFormatError: The file is not a readable image (truncated, empty, wrong format).
    """
    from PIL import Image, UnidentifiedImageError
    if not osp.isfile(path):
        raise missing_image(path)
    try:
        with Image.open(path) as img:
            width, height = img.size
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise unreadable_image(path, str(e)) from e
    return height, width


def read_image(path: str, flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    """``cv2.imread`` that raises on a missing or corrupt file instead of returning ``None``."""
    if not osp.isfile(path):
        raise missing_image(path)
    img = cv2.imread(path, flags)
    if img is None or img.size == 0:
        raise unreadable_image(path, 'OpenCV cannot decode it: corrupt or truncated')
    return img


def check_same_size(image: str, image_hw: Tuple[int, int], label: str, label_hw: Tuple[int, int]) -> None:
    """Raise when an image and its label differ in size (they would be silently misaligned)."""
    if tuple(image_hw) != tuple(label_hw):
        raise DatasetFormatError(
            f"image '{image}' is {image_hw[0]}x{image_hw[1]} (HxW) but its label '{label}' is "
            f'{label_hw[0]}x{label_hw[1]}. Fix: the pair must come from the same release/tile; re-extract '
            f'both, or exclude the pair.')


def check_coco(data: dict, ann_file: str, img_dir: Optional[str], classes: Sequence[str],
               check_images: bool = True) -> Dict[str, int]:
    """Validate a COCO instance-annotation dict before mmdet parses it.

    mmdet's ``CocoDataset`` silently drops annotations whose category is not in ``classes``, reorders
    labels when a class has no category, and fails with a bare ``KeyError`` on a missing field or
    ``AssertionError`` deep in the pipeline on a missing image. Each of those is an error here.

    Args:
        data: The loaded json (``images``, ``annotations``, ``categories``).
        ann_file: Its path, for messages.
        img_dir: Folder that ``file_name`` is relative to; ``None`` skips the file checks.
        classes: The dataset's class names (``metainfo['classes']``).
        check_images: Read each image header and compare its size with the json's height/width.

    Returns:
        Counts: ``images``, ``annotations``, ``images_without_annotations``.
    """
    missing_keys = [k for k in ('images', 'annotations', 'categories') if k not in data]
    if missing_keys:
        raise DatasetFormatError(f"'{ann_file}' has no {missing_keys}: not a COCO instance file "
                                 f'(a converter in tools/dataset_converters/ writes one).')
    cat_names = {c['id']: c['name'] for c in data['categories']}
    images = {img['id']: img for img in data['images']}
    per_cat: Counter = Counter()
    annotated = set()
    for ann in data['annotations']:
        for key in ('image_id', 'category_id', 'bbox', 'area'):
            if key not in ann:
                raise DatasetFormatError(f"'{ann_file}': annotation id {ann.get('id')} has no '{key}'. Fix: "
                                         f'every annotation needs image_id, category_id, bbox [x, y, w, h] '
                                         f'and area (regenerate it with the converter).')
        if ann['category_id'] not in cat_names:
            raise DatasetFormatError(f"'{ann_file}': annotation id {ann.get('id')} has category_id "
                                     f"{ann['category_id']}, which is not in 'categories' {cat_names}")
        if ann['image_id'] not in images:
            raise DatasetFormatError(f"'{ann_file}': annotation id {ann.get('id')} names image_id "
                                     f"{ann['image_id']}, which is not in 'images'")
        per_cat[ann['category_id']] += 1
        annotated.add(ann['image_id'])
    unknown = {cat_names[i]: n for i, n in per_cat.items() if cat_names[i] not in classes}
    if unknown:
        raise DatasetFormatError(
            f"'{ann_file}': categories {unknown} (name: annotations) are not dataset classes {tuple(classes)}; "
            f'mmdet would drop those annotations silently. Fix: add them to metainfo=dict(classes=...) or '
            f'remove them from the annotation file.')
    absent = [c for c in classes if c not in cat_names.values()]
    if absent:
        raise DatasetFormatError(
            f"'{ann_file}': classes {absent} have no entry in 'categories' {sorted(cat_names.values())}; "
            f'mmdet would shift the label indices. Fix: set metainfo=dict(classes=...) to the category names.')
    if img_dir is not None:
        missing = [img['file_name'] for img in data['images'] if not osp.isfile(osp.join(img_dir, img['file_name']))]
        if missing:
            raise FileNotFoundError(
                f"'{ann_file}' names {len(missing)} image(s) missing under '{img_dir}', e.g. {missing[:3]}. "
                f'Fix: point data_root / data_prefix.img at the folder holding them, or regenerate the '
                f'annotation file from the images you have.')
        if check_images:
            for img in data['images']:
                path = osp.join(img_dir, img['file_name'])
                hw = image_size(path)
                if ('height' in img and 'width' in img) and hw != (img['height'], img['width']):
                    raise DatasetFormatError(
                        f"'{ann_file}': image '{path}' is {hw[0]}x{hw[1]} but the file records "
                        f"{img['height']}x{img['width']} (HxW); masks and boxes would be misplaced. Fix: "
                        f'regenerate the annotation file from these images.')
    stats = dict(images=len(images), annotations=len(data['annotations']),
                 images_without_annotations=len(images) - len(annotated))
    print_log(f"{ann_file}: {stats['images']} images, {stats['annotations']} annotations, "
              f"{stats['images_without_annotations']} images without annotations", logger='current')
    return stats
