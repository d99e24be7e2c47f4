"""DOTA Task1 (oriented boxes): merge patch predictions into full images, write and score submissions.

Formats and protocol, checked against the official DOTA_devkit (``ResultMerge_multi_process.py``,
``dota_evaluation_task1.py``) and mmrotate's ``DOTAMetric``:

* A submission is one file per category, ``Task1_{category}.txt``, one detection per line:
  ``{image} {score} x1 y1 x2 y2 x3 y3 x4 y4`` in full-image pixels; the server takes them zipped.
* Patch boxes map back with ``(p + (x, y)) / rate`` for patches named ``{image}__{rate}__{x}___{y}``
  (devkit ``poly2origpoly``), followed by per-category NMS at IoU 0.1 (the devkit's ``nms_thresh`` and
  mmrotate's merge default).
* Scoring (the official ``voc_eval``): per category, detections sorted by score over the whole image
  set; a detection is a true positive when its best-overlapping ground truth has IoU > 0.5 and is
  not yet taken; ground truth with a non-zero ``difficult`` flag is ignored (a detection on it is
  neither TP nor FP); AP is **VOC07 11-point** (the devkit's ``main`` calls ``use_07_metric=True``).
  Matching and AP are mmrotate's ``eval_rbbox_map``.

Where this differs from the devkit:

* **IoU.** The devkit takes the polygon IoU of the 4 corners with the labelled quadrilateral
  (``polyiou``). Here, as in mmrotate's ``DOTAMetric``, it is the rotated-box IoU (``box_iou_rotated``)
  with each label replaced by its minimum-area rectangle; the two agree for rectangular labels and
  differ slightly for the others. The polygon path of ``eval_rbbox_map`` (``box_type='qbox'``, mmcv's
  ``box_iou_quadri``) is not used because in mmcv 2.1.0 it is only right for exact rectangles:
  against shapely, 174 of 1000 rectangle pairs with corners moved by ~0.5 px were off by > 1e-3, and a
  label and a prediction 0.995 apart scored 0.33. For the same reason NMS never uses ``nms_quadri``.
* A match needs IoU >= 0.5 (devkit: > 0.5); mAP averages the categories that have ground truth (the
  devkit averages a fixed list; on the official splits every category has some); and in an image
  whose labels are all difficult, ``eval_rbbox_map`` drops the ignored boxes, so detections there
  count as false positives (devkit: ignored).
"""
import os
import os.path as osp
import zipfile
from collections import defaultdict
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmcv.ops import nms_rotated
from mmrotate.evaluation import eval_rbbox_map
from mmrotate.structures.bbox import qbox2rbox, rbox2qbox

from mmrsfm.datasets.dota_split import DOTAFormatError, parse_dota_txt, parse_patch_name

#: ``(patch name, boxes (N, 5) rbox or (N, 8) qbox, scores (N,), labels (N,))`` for one patch.
PatchPrediction = Tuple[str, np.ndarray, np.ndarray, np.ndarray]

# No real scale is this large; a larger "rate" is the window size of an mmrotate-split patch.
_MAX_RATE = 16


def patch_boxes_to_image(boxes: np.ndarray, rate: float, x: float, y: float) -> np.ndarray:
    """Map boxes of a patch to its full image: shift by the window corner, then undo the resize.

    Args:
        boxes: ``(N, 5)`` rotated boxes ``cx cy w h angle`` or ``(N, 8)`` quadrilaterals, in patch pixels.
        rate: The scale the image was resized by before cutting.
        x: Window corner in the resized image.
        y: Window corner in the resized image.
    """
    out = np.array(boxes, np.float64, copy=True)
    if out.shape[-1] == 5:
        out[:, :2] += (x, y)
        out[:, :4] /= rate  # the angle is scale-invariant
    elif out.shape[-1] == 8:
        out = (out + (x, y) * 4) / rate
    else:
        raise ValueError(f'boxes must be (N, 5) rotated boxes or (N, 8) quadrilaterals, got {out.shape}')
    return out


def merge_patch_predictions(predictions: Iterable[PatchPrediction], num_classes: int, nms_iou_thr: float = 0.1,
                            rescaled_patches: bool = True) -> Dict[str, List[np.ndarray]]:
    """Full-image detections from patch detections: map back, then per-category rotated NMS.

    Args:
        predictions: One :data:`PatchPrediction` per patch.
        num_classes: Number of categories.
        nms_iou_thr: IoU above which the lower-scoring of two same-category boxes is removed.
        rescaled_patches: Patches were cut from the image resized by the name's rate (this project's
            and the devkit's splitter). False for patches of mmrotate's ``img_split.py``, whose name
            carries the window size and whose boxes need only the shift.

    Returns:
        ``{image: [per category (K, 9) array of 4 corners + score]}``, sorted by image name.
    """
    collected: Dict[str, list] = defaultdict(list)
    for name, boxes, scores, labels in predictions:
        image, rate, x, y = parse_patch_name(name)
        if not rescaled_patches:
            rate = 1.0
        elif rate > _MAX_RATE:
            raise ValueError(f'patch {name!r}: a scale of {rate:g} looks like the window size in the names '
                             "of mmrotate's img_split.py patches, which are not resized; pass "
                             'rescaled_patches=False for them')
        collected[image].append((patch_boxes_to_image(boxes, rate, x, y), np.asarray(scores, np.float64),
                                 np.asarray(labels, np.int64)))
    merged = {}
    for image in sorted(collected):
        boxes, scores, labels = (np.concatenate(parts) for parts in zip(*collected[image]))
        merged[image] = [_nms_to_corners(boxes[labels == c], scores[labels == c], nms_iou_thr)
                         for c in range(num_classes)]
    return merged


def _nms_to_corners(boxes: np.ndarray, scores: np.ndarray, iou_thr: float) -> np.ndarray:
    """Rotated NMS on CPU; returns ``(K, 9)`` corners + score, best first.

    Quadrilaterals are suppressed by their minimum-area rectangles (see the module notes on
    ``nms_quadri``) and written as they are.
    """
    if len(boxes) == 0:
        return np.zeros((0, 9))
    boxes_t = torch.from_numpy(boxes)  # float64: full-image coordinates reach 20,000 px
    rboxes = boxes_t if boxes.shape[1] == 5 else qbox2rbox(boxes_t)
    _, keep = nms_rotated(rboxes.float(), torch.from_numpy(scores).float(), iou_thr)
    keep = keep.numpy()
    corners = rbox2qbox(boxes_t[keep]).numpy() if boxes.shape[1] == 5 else boxes[keep]
    return np.concatenate([corners, scores[keep, None]], axis=1)


def write_task1(detections: Dict[str, List[np.ndarray]], classes: Sequence[str], out_dir: str,
                zip_name: Optional[str] = None) -> str:
    """Write ``Task1_{category}.txt`` for every category (empty files included) and zip them.

    Args:
        detections: ``{image: [per category (K, 9) corners + score]}``.
        classes: Category names, in label order.
        out_dir: Folder for the text files (created; existing Task1 files are overwritten).
        zip_name: Archive name; defaults to ``{basename(out_dir)}.zip`` inside ``out_dir``.

    Returns:
        The path of the zip archive (the text files are at its root, as the server expects).
    """
    os.makedirs(out_dir, exist_ok=True)
    files = []
    for c, cls in enumerate(classes):
        files.append(osp.join(out_dir, f'Task1_{cls}.txt'))
        with open(files[-1], 'w') as f:
            for image, per_class in detections.items():
                for det in per_class[c]:
                    f.write(f'{image} {det[8]:.6f} ' + ' '.join(f'{v:.2f}' for v in det[:8]) + '\n')
    zip_path = osp.join(out_dir, zip_name or osp.basename(osp.normpath(out_dir)) + '.zip')
    with zipfile.ZipFile(zip_path, 'w', zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(file, osp.basename(file))
    return zip_path


def read_task1(task1_dir: str, classes: Sequence[str]) -> Dict[str, List[np.ndarray]]:
    """Read ``Task1_{category}.txt`` files back; a missing file means no detections of that category.

    Returns:
        ``{image: [per category (K, 9) corners + score]}``.

    Raises:
        DOTAFormatError: A malformed line (named ``file:line``).
    """
    rows: Dict[str, List[list]] = defaultdict(lambda: [[] for _ in classes])
    for c, cls in enumerate(classes):
        path = osp.join(task1_dir, f'Task1_{cls}.txt')
        if not osp.isfile(path):
            continue
        with open(path, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                tokens = line.split()
                if not tokens:
                    continue
                try:
                    if len(tokens) != 10:
                        raise ValueError
                    values = [float(v) for v in tokens[1:]]
                except ValueError:
                    raise DOTAFormatError(f'{path}:{lineno}: expected "image score x1 y1 x2 y2 x3 y3 x4 y4", '
                                          f'got {line.strip()!r}') from None
                rows[tokens[0]][c].append(values[1:] + values[:1])
    return {image: [np.array(r, np.float64).reshape(-1, 9) for r in per_class]
            for image, per_class in sorted(rows.items())}


def evaluate_task1(task1_dir: str, ann_dir: str, classes: Sequence[str], iou_thr: float = 0.5,
                   eval_mode: str = '11points', nproc: int = 4,
                   logger: Optional[object] = None) -> Tuple[float, Dict[str, float]]:
    """Score Task1 files against full-image ``labelTxt`` files, with the official protocol (module notes).

    Args:
        task1_dir: Folder with ``Task1_{category}.txt``.
        ann_dir: ``labelTxt`` folder of exactly the image set that was tested: every ``.txt`` in it
            is an image of the set (with or without detections).
        classes: Category names, in label order.
        iou_thr: Polygon IoU for a match.
        eval_mode: ``'11points'`` (official, VOC07) or ``'area'`` (VOC2010+).
        nproc: Processes of ``eval_rbbox_map``.
        logger: Where the per-category table goes (mmengine ``print_log`` target).

    Returns:
        ``(mAP, {category: AP})`` over the categories with ground truth.

    Raises:
        ValueError: Detections of an image that has no label file in ``ann_dir``.
    """
    if eval_mode not in ('11points', 'area'):
        raise ValueError(f"eval_mode must be '11points' or 'area', got {eval_mode!r}")
    images = sorted(osp.splitext(f)[0] for f in os.listdir(ann_dir) if f.endswith('.txt'))
    if not images:
        raise FileNotFoundError(f'no label files (.txt) in {ann_dir}')
    detections = read_task1(task1_dir, classes)
    stray = sorted(set(detections) - set(images))
    if stray:
        raise ValueError(f'{task1_dir} has detections of {len(stray)} images without a label file in {ann_dir}, '
                         f'e.g. {stray[:3]}: is it the tested split?')
    label_of = {cls: i for i, cls in enumerate(classes)}
    annotations, dets = [], []
    for image in images:
        labels = parse_dota_txt(osp.join(ann_dir, image + '.txt'), classes)
        ids = np.array([label_of[n] for n in labels.names], np.int64)
        rboxes, hard = _to_rboxes(labels.polys), labels.difficult != 0
        annotations.append(dict(bboxes=rboxes[~hard], labels=ids[~hard], bboxes_ignore=rboxes[hard],
                                labels_ignore=ids[hard]))
        per_class = detections.get(image, [np.zeros((0, 9))] * len(classes))
        dets.append([np.concatenate([_to_rboxes(d[:, :8]), d[:, 8:].astype(np.float32)], 1) for d in per_class])
    mean_ap, per_class = eval_rbbox_map(dets, annotations, iou_thr=iou_thr, use_07_metric=eval_mode == '11points',
                                        box_type='rbox', dataset=list(classes), logger=logger, nproc=nproc)
    aps = {cls: float(r['ap']) for cls, r in zip(classes, per_class) if r['num_gts'] > 0}
    return float(mean_ap), aps


def _to_rboxes(polys: np.ndarray) -> np.ndarray:
    """``(N, 8)`` corners -> ``(N, 5)`` float32 minimum-area rectangles (IoU needs no angle convention)."""
    return qbox2rbox(torch.from_numpy(np.asarray(polys, np.float32).reshape(-1, 8))).numpy().reshape(-1, 5)
