"""NWPU VHR-10 (Cheng et al., ISPRS J. 2014): official box annotations and the later instance masks.

The official release (``NWPU VHR-10 dataset/``) holds 650 ``positive image set/NNN.jpg`` images with
objects, 150 ``negative image set/NNN.jpg`` images without, and ``ground truth/NNN.txt`` per positive
image, one object per line: ``(x1,y1),(x2,y2),class_id`` (top-left, bottom-right corner, class 1..10
in :data:`NWPU_VHR10_CLASSES` order). It has **boxes only** and no official train/test split.

Instance masks come from a later COCO-format release (Su et al., 2019; github.com/chaozhong2010/
VHR-10_dataset_coco, the annotations RSPrompter and others use): one ``annotations.json`` over the 650
positive images (``file_name`` = ``NNN.jpg`` in ``positive image set/``), polygon masks, category ids
1..10 as in the official release, again without a fixed split (its script draws a random 70/30).

What is supported:

- :func:`convert_nwpu_boxes`: official txt -> COCO json with boxes only (for detectors; Mask R-CNN
  needs masks), negatives included as images without annotations;
- :func:`split_nwpu_instances`: the instance-mask json -> ``train``/``val`` files with our class
  names (matched by category id, any other id is an error).

Both split by the same seeded draw over file names (:func:`split_names`), so a box model and a mask
model see the same images in each split.
"""
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from ..file_checks import (DatasetFormatError, annotation_problems, check_instances, describe_instance_report,
                           image_size)

#: The 10 NWPU VHR-10 categories; category id ``k + 1`` in the release.
NWPU_VHR10_CLASSES = ('airplane', 'ship', 'storage tank', 'baseball diamond', 'tennis court', 'basketball court',
                      'ground track field', 'harbor', 'bridge', 'vehicle')
POSITIVE_DIR, NEGATIVE_DIR, GT_DIR = 'positive image set', 'negative image set', 'ground truth'
_LINE_RE = re.compile(r'^\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)\s*,\s*'
                      r'\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)\s*,\s*(\d+)\s*$')


def _categories() -> List[dict]:
    return [dict(id=i + 1, name=name, supercategory='object') for i, name in enumerate(NWPU_VHR10_CLASSES)]


def split_names(names: Sequence[str], val_ratio: float, seed: int) -> Dict[str, str]:
    """``{name: 'train' | 'val'}``: a seeded random draw of ``round(len * val_ratio)`` val names.

    Depends only on the set of names, so the same images fall in the same split in every converter.
    """
    if not 0 <= val_ratio < 1:
        raise ValueError(f'val_ratio must be in [0, 1), got {val_ratio}')
    ordered = sorted(names)
    val = set(np.random.default_rng(seed).permutation(len(ordered))[:round(len(ordered) * val_ratio)].tolist())
    return {name: 'val' if i in val else 'train' for i, name in enumerate(ordered)}


def parse_nwpu_ground_truth(path: str) -> List[dict]:
    """Boxes of one ``ground truth/NNN.txt``: ``[{'bbox': [x, y, w, h], 'category_id': c}, ...]``.

    Blank lines are skipped; a malformed line, a class id outside 1..10 or an empty box raises
    :class:`DatasetFormatError` naming the file and line.
    """
    objects = []
    with open(path) as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            match = _LINE_RE.match(line.strip())
            if not match:
                raise DatasetFormatError(f"{path}:{lineno}: '{line.strip()}' is not '(x1,y1),(x2,y2),class_id'")
            x1, y1, x2, y2 = (float(v) for v in match.groups()[:4])
            cls = int(match.group(5))
            if not 1 <= cls <= len(NWPU_VHR10_CLASSES):
                raise DatasetFormatError(f'{path}:{lineno}: class id {cls} is not an NWPU VHR-10 class '
                                         f'(1..{len(NWPU_VHR10_CLASSES)}: {", ".join(NWPU_VHR10_CLASSES)})')
            if x2 <= x1 or y2 <= y1:
                raise DatasetFormatError(f'{path}:{lineno}: empty box ({x1},{y1}),({x2},{y2})')
            objects.append(dict(bbox=[x1, y1, x2 - x1, y2 - y1], category_id=cls))
    return objects


def _check_release_folder(root: str, pos_dir: str, gt_dir: str) -> None:
    """The folders ``--boxes`` needs, with the fix for what is actually there."""
    if not osp.isdir(root):
        raise FileNotFoundError(f"'{root}' does not exist. Fix: pass the extracted 'NWPU VHR-10 dataset' folder "
                                f"(it holds '{POSITIVE_DIR}/', '{NEGATIVE_DIR}/' and '{GT_DIR}/').")
    if not osp.isdir(pos_dir):
        nested = [osp.join(root, d) for d in sorted(os.listdir(root))
                  if osp.isdir(osp.join(root, d, POSITIVE_DIR))]
        hint = (f"it holds the release one level down: pass '{nested[0]}'" if nested else
                f"pass the extracted 'NWPU VHR-10 dataset' folder, the one holding '{POSITIVE_DIR}/'")
        raise FileNotFoundError(f"'{root}' has no '{POSITIVE_DIR}/' folder. Fix: {hint}.")
    if not osp.isdir(gt_dir):
        raise FileNotFoundError(
            f"'{root}' has the images ('{POSITIVE_DIR}/') but no '{GT_DIR}/' folder, which holds the official box "
            f"annotations --boxes converts (one NNN.txt per positive image). Fix: extract '{GT_DIR}/' from the "
            f"release into '{root}'; or, if you have only the COCO instance-mask file, drop --boxes and pass "
            f'--instances annotations.json.')


def convert_nwpu_boxes(root: str, out_dir: Optional[str] = None, val_ratio: float = 0.3, seed: int = 0,
                       include_negatives: bool = True) -> Dict[str, str]:
    """Official ``ground truth/*.txt`` boxes -> ``nwpu_vhr10_bbox_{train,val}.json`` (no masks).

    ``file_name`` is relative to ``root`` (``positive image set/001.jpg``), so configs use
    ``data_root=root`` and ``data_prefix=dict(img='')``.

    Returns:
        ``{split: json path}``.
    """
    out_dir = out_dir or osp.join(root, 'annotations')
    pos_dir, gt_dir = osp.join(root, POSITIVE_DIR), osp.join(root, GT_DIR)
    _check_release_folder(root, pos_dir, gt_dir)
    entries = [(POSITIVE_DIR, f) for f in sorted(os.listdir(pos_dir)) if f.lower().endswith('.jpg')]
    neg_dir = osp.join(root, NEGATIVE_DIR)
    if include_negatives and osp.isdir(neg_dir):
        entries += [(NEGATIVE_DIR, f) for f in sorted(os.listdir(neg_dir)) if f.lower().endswith('.jpg')]
    # Positives and negatives are drawn separately: the positives' split then equals that of
    # split_nwpu_instances (same names), and both splits get their share of negatives.
    split_of = {}
    for folder in (POSITIVE_DIR, NEGATIVE_DIR):
        names = [name for f, name in entries if f == folder]
        split_of.update({(folder, n): s for n, s in split_names(names, val_ratio, seed).items()})
    out = {s: dict(images=[], annotations=[], categories=_categories()) for s in ('train', 'val')}
    for folder, name in entries:
        data = out[split_of[(folder, name)]]
        file_name = osp.join(folder, name)
        height, width = image_size(osp.join(root, file_name))
        img_id = len(data['images']) + 1
        data['images'].append(dict(id=img_id, file_name=file_name, height=height, width=width))
        if folder == NEGATIVE_DIR:
            continue
        gt = osp.join(gt_dir, osp.splitext(name)[0] + '.txt')
        if not osp.isfile(gt):
            raise FileNotFoundError(f"positive image '{file_name}' has no box file '{gt}'")
        for obj in parse_nwpu_ground_truth(gt):
            data['annotations'].append(dict(id=len(data['annotations']) + 1, image_id=img_id, iscrowd=0,
                                            area=obj['bbox'][2] * obj['bbox'][3], **obj))
    return _write_splits(out, out_dir, 'nwpu_vhr10_bbox')


def split_nwpu_instances(ann_file: str, out_dir: Optional[str] = None, val_ratio: float = 0.3,
                         seed: int = 0) -> Dict[str, str]:
    """The COCO instance-mask release -> ``nwpu_vhr10_instances_{train,val}.json``.

    Categories are matched by id (1..10) and renamed to :data:`NWPU_VHR10_CLASSES`, because copies of
    the json spell names differently; an id outside 1..10 raises. Malformed instances that mmdet would
    drop without a message (a polygon with an odd number of coordinates, fewer than 3 points, zero
    area or entirely outside its image; an empty or outside box) are left out of the output and
    counted in the log with their annotation ids (:func:`_valid_instances`); a file in which no
    instance is valid raises.

    Returns:
        ``{split: json path}``.
    """
    with open(ann_file) as f:
        data = json.load(f)
    known = {c['id'] for c in _categories()}
    bad = sorted({c['id'] for c in data.get('categories', [])} - known)
    bad_anns = sum(a['category_id'] not in known for a in data.get('annotations', []))
    if bad or bad_anns:
        raise DatasetFormatError(f"'{ann_file}': category ids {bad} ({bad_anns} annotations) are not NWPU VHR-10 "
                                 f'ids 1..10. Fix: pass the NWPU VHR-10 instance annotation file.')
    data = dict(data, annotations=_valid_instances(data, ann_file))
    split_of = split_names([img['file_name'] for img in data['images']], val_ratio, seed)
    image_split = {img['id']: split_of[img['file_name']] for img in data['images']}
    out = {s: dict(images=[img for img in data['images'] if image_split[img['id']] == s],
                   annotations=[a for a in data['annotations'] if image_split[a['image_id']] == s],
                   categories=_categories()) for s in ('train', 'val')}
    return _write_splits(out, out_dir or osp.join(osp.dirname(ann_file), 'annotations'), 'nwpu_vhr10_instances')


def _valid_instances(data: dict, ann_file: str) -> List[dict]:
    """The annotations of ``data`` with invalid polygons removed and invalid instances left out (logged)."""
    report = check_instances(data, ann_file)
    if not (report['invalid_polygons'] or report['dropped']):
        return list(data['annotations'])
    message = describe_instance_report(report, ann_file)
    if report['annotations'] and len(report['dropped']) == report['annotations']:
        raise DatasetFormatError(f'{message}. No valid instance is left. Fix: pass the NWPU VHR-10 instance '
                                 f'annotation file (COCO polygons: flat [x0, y0, x1, y1, ...] lists of >= 3 points).')
    print_log(message + ' (left out of the converted files)', logger='current')
    images = {img['id']: img for img in data['images']}
    kept = []
    for ann in data['annotations']:
        segmentation, problems, drop = annotation_problems(ann, images[ann['image_id']])
        if not drop:
            kept.append(dict(ann, segmentation=segmentation) if problems else ann)
    return kept


def _write_splits(out: Dict[str, dict], out_dir: str, prefix: str) -> Dict[str, str]:
    os.makedirs(out_dir, exist_ok=True)
    written = {}
    for split, data in out.items():
        written[split] = osp.join(out_dir, f'{prefix}_{split}.json')
        with open(written[split], 'w') as f:
            json.dump(data, f)
        print_log(f"NWPU VHR-10 {split}: {len(data['images'])} images, {len(data['annotations'])} objects "
                  f'-> {written[split]}', logger='current')
    return written
