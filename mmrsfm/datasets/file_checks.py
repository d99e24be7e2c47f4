"""Checks shared by the dataset classes and the converters: every problem with a file on disk is
reported with the file, what is wrong, and the fix, instead of surfacing later as a shape error in a
transform or a silently dropped sample.
"""
import logging
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

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
               check_images: bool = True, invalid_instances: str = 'log') -> Dict[str, int]:
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
        invalid_instances: What to do with instances mmdet would drop silently (malformed polygons:
            odd coordinate count, fewer than 3 points, zero area, entirely outside the image; boxes
            with ``w < 1``, ``h < 1``, ``area <= 0`` or outside the image; RLE of another size; see
            :func:`check_instances`): ``'log'`` counts them in the log with the annotation ids,
            ``'error'`` raises. Either way a file whose every annotation would be dropped is an error.

    Returns:
        Counts: ``images``, ``annotations``, ``images_without_annotations``, ``invalid_polygons``,
        ``dropped_annotations``, ``images_emptied``.
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
    if invalid_instances not in ('log', 'error'):
        raise ValueError(f"invalid_instances must be 'log' or 'error', got {invalid_instances!r}")
    report = check_instances(data, ann_file)
    if report['invalid_polygons'] or report['dropped']:
        message = describe_instance_report(report, ann_file)
        every = report['annotations'] and len(report['dropped']) == report['annotations']
        if every or invalid_instances == 'error':
            every_text = 'Every annotation would be dropped, so images would train without objects. ' if every else ''
            raise DatasetFormatError(
                f'{message}. {every_text}'
                f'Fix: regenerate the annotation file (a COCO polygon is a flat [x0, y0, x1, y1, ...] list of at '
                f'least 3 points inside its image), or remove the named annotations'
                f"{'' if every else '; invalid_instances=log drops and counts them instead'}.")
        print_log(message + ' (mmdet would drop these without a message)', logger='current', level=logging.WARNING)
    stats = dict(images=len(images), annotations=len(data['annotations']),
                 images_without_annotations=len(images) - len(annotated),
                 invalid_polygons=len(report['invalid_polygons']), dropped_annotations=len(report['dropped']),
                 images_emptied=len(report['images_emptied']))
    print_log(f"{ann_file}: {stats['images']} images, {stats['annotations']} annotations, "
              f"{stats['images_without_annotations']} images without annotations"
              + (f", {stats['dropped_annotations']} annotations dropped as invalid" if stats['dropped_annotations']
                 else ''), logger='current')
    return stats


# ---------------------------------------------------------------------------------------------------------------
# Instance annotations: what mmdet drops without a word


def polygon_problem(poly, width: float, height: float) -> Optional[str]:
    """Why mmdet would drop (or wrongly rasterise) one COCO polygon ``[x0, y0, x1, y1, ...]``, or None.

    mmdet's ``LoadAnnotations`` silently drops polygons with an odd number of coordinates or fewer
    than 3 points, and the whole instance when none is left; a zero-area polygon or one entirely
    outside the image rasterises to an empty mask.
    """
    if not isinstance(poly, (list, tuple)) or not all(isinstance(v, (int, float)) for v in poly):
        return 'not a flat list of numbers'
    n = len(poly)
    if n % 2:
        return f'odd number of coordinates ({n})'
    if n < 6:
        return f'fewer than 3 points ({n // 2})'
    xs, ys = np.asarray(poly[0::2], np.float64), np.asarray(poly[1::2], np.float64)
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        return 'non-finite coordinates'
    if abs(float(np.dot(xs, np.roll(ys, -1)) - np.dot(np.roll(xs, -1), ys))) < 1e-9:
        return 'zero area'
    if xs.max() <= 0 or ys.max() <= 0 or xs.min() >= width or ys.min() >= height:
        return f'entirely outside the {int(width)}x{int(height)} image'
    return None


def annotation_problems(ann: dict, img: dict) -> Tuple[Optional[list], List[str], Optional[str]]:
    """Check one COCO annotation against its image as mmdet's ``CocoDataset`` and ``LoadAnnotations`` use it.

    Returns:
        ``(segmentation, problems, drop)``: the segmentation with invalid polygons removed (None when
        it has none or is RLE), a description of each invalid polygon, and why the whole annotation is
        lost (None when it is kept): a box mmdet skips (``w < 1``, ``h < 1``, ``area <= 0``, outside
        the image) or a segmentation with no valid polygon / an RLE of another size.
    """
    width, height = img.get('width'), img.get('height')
    if len(ann.get('bbox') or ()) != 4:
        return None, [], f"bbox {ann.get('bbox')} is not [x, y, w, h]"
    x, y, w, h = ann['bbox']
    if width is not None and height is not None:
        if max(0, min(x + w, width) - max(x, 0)) * max(0, min(y + h, height) - max(y, 0)) == 0:
            return None, [], f'bbox {ann["bbox"]} outside the {width}x{height} image'
    if ann.get('area', w * h) <= 0 or w < 1 or h < 1:
        return None, [], f'bbox {ann["bbox"]} / area {ann.get("area")} (mmdet skips w < 1, h < 1, area <= 0)'
    seg = ann.get('segmentation')
    if isinstance(seg, dict):
        size = seg.get('size')
        if 'counts' not in seg or (height is not None and list(size or []) != [height, width]):
            return None, [], f'RLE of size {size} for a {height}x{width} image'
        return None, [], None
    if not seg:  # boxes only: nothing to check
        return None, [], None
    if not isinstance(seg, list):
        return None, [], f'segmentation {type(seg).__name__} is neither polygons nor RLE'
    kept, problems = [], []
    for i, poly in enumerate(seg):
        why = polygon_problem(poly, width or np.inf, height or np.inf)
        if why is None:
            kept.append(poly)
        else:
            problems.append(f'polygon {i}: {why}')
    if not kept:
        return [], problems, 'no valid polygon left'
    return kept, problems, None


def check_instances(data: dict, ann_file: str) -> Dict[str, object]:
    """Count, per kind, the instances mmdet would drop silently (see :func:`annotation_problems`).

    Returns:
        ``dict(invalid_polygons=[(ann id, file name, problem), ...], dropped=[(ann id, file name,
        reason), ...], images_emptied=[file name, ...], annotations=N)``; ``images_emptied`` are
        images whose every annotation is dropped (they would train as empty images).
    """
    images = {img['id']: img for img in data['images']}
    bad_polys, dropped, per_image, lost = [], [], Counter(), Counter()
    for ann in data['annotations']:
        img = images[ann['image_id']]
        _, problems, drop = annotation_problems(ann, img)
        bad_polys += [(ann.get('id'), img['file_name'], p) for p in problems]
        per_image[ann['image_id']] += 1
        if drop:
            dropped.append((ann.get('id'), img['file_name'], drop))
            lost[ann['image_id']] += 1
    emptied = [images[i]['file_name'] for i, n in lost.items() if n == per_image[i]]
    return dict(invalid_polygons=bad_polys, dropped=dropped, images_emptied=emptied,
                annotations=len(data['annotations']))


def describe_instance_report(report: Dict[str, object], ann_file: str, limit: int = 5) -> str:
    """One log message for :func:`check_instances`' report: counts, then the first ids and problems."""
    def shown(items):
        return '; '.join(f'id {i} ({f}): {p}' for i, f, p in items[:limit]) + (
            f'; ... {len(items) - limit} more' if len(items) > limit else '')

    parts = []
    if report['invalid_polygons']:
        bad = report['invalid_polygons']
        parts.append(f'{len(bad)} invalid polygon(s) removed [{shown(bad)}]')
    if report['dropped']:
        parts.append(f"{len(report['dropped'])} of {report['annotations']} annotation(s) dropped "
                     f"[{shown(report['dropped'])}]")
    if report['images_emptied']:
        parts.append(f"{len(report['images_emptied'])} image(s) lost every object, e.g. {report['images_emptied'][:3]}")
    return f"{ann_file}: " + ', '.join(parts)
