"""DOTA Task1 (oriented boxes): merge patch predictions into full images, write and score submissions.

Formats and protocol are those of the official DOTA_devkit (CAPTAIN-WHU/DOTA_devkit,
``ResultMerge_multi_process.py`` and ``dota_evaluation_task1.py``, the scorer of the evaluation server);
the scoring is checked against the devkit itself (``tests/test_evaluation/test_dota_devkit_equivalence.py``):

* A submission is one file per category, ``Task1_{category}.txt``, one detection per line:
  ``{image} {score} x1 y1 x2 y2 x3 y3 x4 y4`` in full-image pixels; the server takes them zipped.
* Patch boxes map back with ``(p + (x, y)) / rate`` for patches named ``{image}__{rate}__{x}___{y}``
  (devkit ``poly2origpoly``), followed by per-category NMS at IoU 0.1 (the devkit's ``nms_thresh``):
  a box goes when its polygon IoU with a kept higher-scoring box is above the threshold.
* IoU is the devkit's polygon IoU of the labelled quadrilateral itself and the detection's 4 corners
  (:mod:`mmrsfm.evaluation.poly_iou`: exact for simple quads; self-intersecting ones as the devkit).
* Scoring (devkit ``voc_eval``), per category: detections sorted by score over the whole image set
  (``np.argsort(-score)`` on the file's order, as the devkit, so equal scores tie-break alike); each
  takes the label of its image with the highest IoU (first on ties); IoU > ``iou_thr`` (strict) and
  that label not difficult and not yet taken: true positive; taken: false positive; difficult
  (any non-zero flag): neither, also in an image whose labels are all difficult; IoU <= ``iou_thr``
  (or no label): false positive. Recall is over the non-difficult labels; precision is
  ``tp / max(tp + fp, eps)``; AP is VOC07 11-point by default (the devkit's ``main`` passes
  ``use_07_metric=True``), or the all-points area (``eval_mode='area'``, the devkit's other branch).

Where this differs from the devkit (none of it changes a per-category AP):

* mAP averages the categories that have at least one non-difficult label in the set; the devkit
  averages its fixed list, where any other category scores 0 (11-point) or NaN (area) whatever the
  detections. On the official splits every category has such labels and both means are the same.
* The devkit fails on a category without a detection file, an empty one, or detections of images
  outside the image set; here the first two score AP 0 and the last is a ``ValueError``.
"""
import os
import os.path as osp
import zipfile
from collections import defaultdict
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from mmrsfm.datasets.dota_split import DOTAFormatError, parse_dota_txt, parse_patch_name
from .poly_iou import hbb_pairs, poly_hbb, poly_iou_aligned, poly_nms, rbox_to_poly

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
    """Polygon-IoU NMS (exact, :func:`~mmrsfm.evaluation.poly_iou.poly_nms`); returns ``(K, 9)``
    corners + score, best first. Rotated boxes ``(N, 5)`` become their corners first (float64: full-image
    coordinates reach 20,000 px); quadrilaterals ``(N, 8)`` are used and written as they are."""
    if len(boxes) == 0:
        return np.zeros((0, 9))
    corners = rbox_to_poly(boxes).numpy() if boxes.shape[1] == 5 else np.asarray(boxes, np.float64)
    keep = poly_nms(corners, scores, iou_thr)
    return np.concatenate([corners[keep], np.asarray(scores, np.float64)[keep, None]], axis=1)


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
        for image, score, corners in zip(*read_task1_file(path)):
            rows[image][c].append([*corners, score])
    return {image: [np.array(r, np.float64).reshape(-1, 9) for r in per_class]
            for image, per_class in sorted(rows.items())}


def read_task1_file(path: str) -> Tuple[List[str], np.ndarray, np.ndarray]:
    """One ``Task1_{category}.txt`` in file order: ``(images, scores (D,), corners (D, 8))``.

    Raises:
        DOTAFormatError: A malformed line (named ``file:line``).
    """
    images, values = [], []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            tokens = line.split()
            if not tokens:
                continue
            try:
                if len(tokens) != 10:
                    raise ValueError
                values.append([float(v) for v in tokens[1:]])
            except ValueError:
                raise DOTAFormatError(f'{path}:{lineno}: expected "image score x1 y1 x2 y2 x3 y3 x4 y4", '
                                      f'got {line.strip()!r}') from None
            images.append(tokens[0])
    values = np.array(values, np.float64).reshape(-1, 9)
    return images, values[:, 0], values[:, 1:]


def voc_ap(rec: np.ndarray, prec: np.ndarray, use_07_metric: bool = True) -> float:
    """VOC AP of a precision/recall curve, as the devkit's ``voc_ap``: 11-point (VOC07: the mean over
    ``t`` in ``np.arange(0, 1.1, 0.1)`` of the best precision at recall >= ``t``, 0 where none), or
    the area under the precision envelope at the points where recall changes."""
    if use_07_metric:
        ap = 0.
        for t in np.arange(0., 1.1, 0.1):
            reached = rec >= t
            ap += (np.max(prec[reached]) if reached.any() else 0) / 11.
        return float(ap)
    mrec = np.concatenate(([0.], rec, [1.]))
    mpre = np.concatenate(([0.], prec, [0.]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def _best_labels(det_image: np.ndarray, det_polys: np.ndarray, gt_image: np.ndarray,
                 gt_polys: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Per detection, the highest IoU with a label of its image and that label (first on ties).

    As the devkit, only labels whose enclosing box overlaps the detection's in its ``+1`` pixel
    convention are compared (the others have IoU 0); no candidate gives ``-inf``; a NaN IoU (two
    degenerate quads) makes the maximum NaN.
    """
    ovmax, jmax = np.full(len(det_image), -np.inf), np.full(len(det_image), -1, np.int64)
    dd, gg = hbb_pairs(poly_hbb(det_polys), poly_hbb(gt_polys), det_image, gt_image, pad=1.)
    if not len(dd):
        return ovmax, jmax
    iou = poly_iou_aligned(gt_polys[gg], det_polys[dd]).numpy()
    starts = np.flatnonzero(np.r_[True, dd[1:] != dd[:-1]])
    best = np.maximum.reduceat(iou, starts)  # NaN-propagating, as np.max
    ovmax[dd[starts]] = best
    at_best = iou == np.repeat(best, np.diff(np.r_[starts, len(dd)]))
    _, first_best = np.unique(dd[at_best], return_index=True)  # pairs are sorted by label within a detection
    jmax[dd[at_best][first_best]] = gg[at_best][first_best]
    return ovmax, jmax


def voc_eval_polys(det_images: Sequence[str], det_scores: np.ndarray, det_polys: np.ndarray,
                   gts: Dict[str, Tuple[np.ndarray, np.ndarray]], iou_thr: float = 0.5,
                   use_07_metric: bool = True) -> dict:
    """One category scored as the devkit's ``voc_eval`` (module notes), on arrays instead of files.

    Args:
        det_images: Image of each detection, in the order of the Task1 file.
        det_scores: ``(D,)`` scores.
        det_polys: ``(D, 8)`` corners.
        gts: ``{image: (corners (G, 8), difficult (G,) bool)}`` of this category for every image of the
            set (images without labels of it may be left out).
        iou_thr: A match needs IoU strictly above it.
        use_07_metric: VOC07 11-point AP (devkit default) or the area.

    Returns:
        ``dict(ap, rec, prec, tp, fp, num_gts)``: ``rec``/``prec`` per detection in score order,
        ``num_gts`` the non-difficult labels.

    Raises:
        KeyError: A detection of an image that is not in ``gts``.
    """
    names = sorted(gts)
    index = {n: i for i, n in enumerate(names)}
    polys = [np.asarray(gts[n][0], np.float64).reshape(-1, 8) for n in names]
    hard = [np.asarray(gts[n][1], bool).reshape(-1) for n in names]
    gt_image = np.repeat(np.arange(len(names)), [len(p) for p in polys])
    gt_polys = np.concatenate(polys) if polys else np.zeros((0, 8))
    gt_hard = np.concatenate(hard) if hard else np.zeros(0, bool)
    npos = int((~gt_hard).sum())

    det_scores = np.asarray(det_scores, np.float64).reshape(-1)
    order = np.argsort(-det_scores)  # the devkit's call: same tie order for the same file
    det_image = np.array([index.get(det_images[k], -1) for k in order], np.int64)
    if (det_image < 0).any():
        missing = det_images[order[np.argmax(det_image < 0)]]
        raise KeyError(f'detection of image {missing!r}, which has no entry in gts')
    ovmax, jmax = _best_labels(det_image, np.asarray(det_polys, np.float64).reshape(-1, 8)[order], gt_image,
                               gt_polys)
    matched = ovmax > iou_thr
    counted = matched & ~gt_hard[np.where(matched, jmax, 0)] if len(gt_hard) else matched
    first = np.zeros(len(order), bool)
    hits = np.flatnonzero(counted)
    _, first_hit = np.unique(jmax[hits], return_index=True)
    first[hits[first_hit]] = True
    tp = first.astype(np.float64)
    fp = ((counted & ~first) | ~matched).astype(np.float64)
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    with np.errstate(divide='ignore', invalid='ignore'):
        rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return dict(ap=voc_ap(rec, prec, use_07_metric), rec=rec, prec=prec, tp=tp, fp=fp, num_gts=npos)


def evaluate_task1(task1_dir: str, ann_dir: str, classes: Sequence[str], iou_thr: float = 0.5,
                   eval_mode: str = '11points', nproc: int = 4,
                   logger: Optional[object] = None) -> Tuple[float, Dict[str, float]]:
    """Score Task1 files against full-image ``labelTxt`` files exactly as the official devkit (module notes).

    Args:
        task1_dir: Folder with ``Task1_{category}.txt`` (a missing file: no detections).
        ann_dir: ``labelTxt`` folder of exactly the image set that was tested: every ``.txt`` in it
            is an image of the set (with or without detections).
        classes: Category names, in label order.
        iou_thr: Polygon IoU a match must exceed.
        eval_mode: ``'11points'`` (official, VOC07) or ``'area'``.
        nproc: Unused (kept for compatibility; the scoring is vectorised).
        logger: Where the per-category table goes (mmengine ``print_log`` target).

    Returns:
        ``(mAP, {category: AP})`` over the categories with at least one non-difficult label (the
        devkit's AP of any other category is 0, or NaN for ``'area'``, whatever the detections).

    Raises:
        ValueError: Detections of an image that has no label file in ``ann_dir``.
    """
    if eval_mode not in ('11points', 'area'):
        raise ValueError(f"eval_mode must be '11points' or 'area', got {eval_mode!r}")
    images = sorted(osp.splitext(f)[0] for f in os.listdir(ann_dir) if f.endswith('.txt'))
    if not images:
        raise FileNotFoundError(f'no label files (.txt) in {ann_dir}')
    per_class: Dict[str, Dict[str, Tuple[list, list]]] = {c: {} for c in classes}
    for image in images:
        labels = parse_dota_txt(osp.join(ann_dir, image + '.txt'), classes)
        for cls in classes:
            pick = np.array([n == cls for n in labels.names], bool)
            per_class[cls][image] = (labels.polys[pick], labels.difficult[pick] != 0)
    known = set(images)
    dets = {}
    for cls in classes:
        path = osp.join(task1_dir, f'Task1_{cls}.txt')
        dets[cls] = read_task1_file(path) if osp.isfile(path) else ([], np.zeros(0), np.zeros((0, 8)))
        stray = sorted(set(dets[cls][0]) - known)
        if stray:
            raise ValueError(f'{task1_dir} has detections of {len(stray)} images without a label file in '
                             f'{ann_dir}, e.g. {stray[:3]}: is it the tested split?')
    aps, rows = {}, []
    for cls in classes:
        num_labels = sum(len(p) for p, _ in per_class[cls].values())
        result = voc_eval_polys(*dets[cls], per_class[cls], iou_thr, eval_mode == '11points')
        recall = float(result['rec'][-1]) if len(result['rec']) and result['num_gts'] else 0.
        rows.append((cls, result['num_gts'], num_labels - result['num_gts'], len(dets[cls][0]), recall,
                     result['ap']))
        if result['num_gts']:
            aps[cls] = result['ap']
    mean_ap = float(np.mean(list(aps.values()))) if aps else 0.
    table = [f'{"category":<24}{"labels":>8}{"difficult":>10}{"dets":>9}{"recall":>8}{"ap":>8}']
    table += [f'{c:<24}{n:>8}{h:>10}{d:>9}{r:>8.4f}{a:>8.4f}' for c, n, h, d, r, a in rows]
    table.append(f'{"mAP (" + str(len(aps)) + " categories with non-difficult labels)":<59}{mean_ap:>8.4f}')
    print_log(f'DOTA Task1, IoU > {iou_thr:g}, {eval_mode}:\n' + '\n'.join(table), logger=logger)
    return mean_ap, aps
