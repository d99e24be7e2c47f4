"""Deterministic DOTA Task1 scoring cases, shared by the devkit-equivalence test and the script that
produced its golden file (``make_dota_devkit_golden.py``, next to this file).

Everything is drawn from ``numpy.random.Generator(PCG64(seed)).random()`` only (uniform doubles: the
same stream on every numpy version) and written as text with fixed decimals, so the label and Task1
files are byte-identical wherever they are generated; the golden file records their sha256.

The cases: 6 categories over 16 large images (coordinates up to 4,000 px), with

* labels: rectangles at any angle (small vehicles crowded, overlapping), thin parallelograms
  (aspect 6-20, sheared), non-rectangular convex quads, non-convex ("dart") quads, self-intersecting
  ("bow-tie": a rectangle in Z order, zero signed area) quads, both orientations; difficult flags 1
  and 2; one image whose labels are all difficult; one image without labels; one category whose
  labels are all difficult (``helicopter``);
* detections: each label's corners jittered (small to large), its unsheared rectangle (what a
  rotated-box detector outputs for a parallelogram), a near-coincident copy (1e-3 px), shifts that land
  near the IoU thresholds, lower-scoring duplicates, another category's box at a label, and random
  false positives; corners start at any vertex and go either way; scores all distinct.
"""
import hashlib
import os
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np

CLASSES = ('plane', 'bridge', 'small-vehicle', 'ship', 'harbor', 'helicopter')
SEED = 20240607
NUM_IMAGES = 16
ALL_DIFFICULT_IMAGE = 'P9003'
EMPTY_IMAGE = 'P9007'
#: IoU thresholds x AP kinds the golden file holds.
SETTINGS = [(0.5, True), (0.5, False), (0.7, True)]


class _Uniform:
    """Draws built on ``Generator.random()`` alone (stable across numpy versions)."""

    def __init__(self, seed: int):
        self.rng = np.random.Generator(np.random.PCG64(seed))

    def u(self, lo: float = 0., hi: float = 1.) -> float:
        return lo + (hi - lo) * float(self.rng.random())

    def chance(self, p: float) -> bool:
        return float(self.rng.random()) < p

    def pick(self, n: int) -> int:
        return min(int(float(self.rng.random()) * n), n - 1)


def _rect(cx, cy, w, h, a, shear=0.):
    """Corners of a w x h rectangle at angle a; ``shear`` slides the far side along w (a parallelogram)."""
    v1 = np.array([np.cos(a), np.sin(a)]) * w / 2
    v2 = np.array([-np.sin(a), np.cos(a)]) * h / 2 + shear * v1
    c = np.array([cx, cy])
    return np.concatenate([c - v1 - v2, c + v1 - v2, c + v1 + v2, c - v1 + v2])


def _reorder(poly: np.ndarray, r: _Uniform) -> np.ndarray:
    """Start at any corner, go either way."""
    pts = poly.reshape(4, 2)
    pts = np.roll(pts, r.pick(4), axis=0)
    return (pts[::-1] if r.chance(0.5) else pts).reshape(8)


def _label(cls: str, r: _Uniform, near=None) -> Tuple[np.ndarray, np.ndarray]:
    """A label polygon of the category's kind and the rectangle a detector would fit to it; ``near``:
    a centre within 25 px of that point (crowded, overlapping objects)."""
    if near is None:
        cx, cy = r.u(150, 3850), r.u(150, 3850)
    else:
        cx, cy = near[0] + r.u(-25, 25), near[1] + r.u(-25, 25)
    a = r.u(-np.pi, np.pi)
    if cls == 'bridge':  # thin, sheared
        w = r.u(120, 400)
        h = w / r.u(6, 20)
        shear = r.u(-0.6, 0.6)
        return _rect(cx, cy, w, h, a, shear), _rect(cx, cy, w, h, a)
    size = {'plane': (40, 90), 'small-vehicle': (8, 24), 'ship': (20, 120), 'harbor': (60, 260),
            'helicopter': (20, 50)}[cls]
    w, h = r.u(*size), r.u(*size) * (0.3 if cls in ('ship', 'small-vehicle') else 1)
    rect = _rect(cx, cy, w, h, a)
    poly = rect.copy()
    kind = r.u()
    if cls == 'harbor' or kind < 0.25:  # non-rectangular convex quad
        poly = poly + (np.array([r.u(-1, 1) for _ in range(8)]) * 0.25 * min(w, h))
    if cls == 'harbor' and kind < 0.4:  # non-convex: one corner pushed past the diagonal
        k = r.pick(4)
        pts = poly.reshape(4, 2)
        pts[k] = np.array([cx, cy]) - 0.35 * (pts[k] - np.array([cx, cy]))
        poly = pts.reshape(8)
    if cls == 'plane' and kind > 0.9:  # self-intersecting: corners 3 and 4 swapped
        poly = poly.reshape(4, 2)[[0, 1, 3, 2]].reshape(8)
    return poly, rect


def _detections_of(poly: np.ndarray, rect: np.ndarray, r: _Uniform) -> List[np.ndarray]:
    size = np.sqrt(max(abs(_area(rect)), 1.))
    out = []
    if r.chance(0.85):
        kind = r.u()
        if kind < 0.45:
            sigma = [0.02, 0.08, 0.2][r.pick(3)] * size
            out.append(poly + np.array([r.u(-1, 1) for _ in range(8)]) * sigma)
        elif kind < 0.65:
            out.append(rect + np.array([r.u(-1, 1) for _ in range(8)]) * 0.01 * size)
        elif kind < 0.8:
            out.append(poly + np.array([r.u(-1, 1) for _ in range(8)]) * 1e-3)
        else:  # shifted along x: IoU anywhere from ~0.3 to 1
            out.append(poly + np.tile([r.u(0, 0.45) * size, 0.], 4))
    if out and r.chance(0.3):  # a duplicate
        out.append(out[0] + np.array([r.u(-1, 1) for _ in range(8)]) * 0.05 * size)
    return [_reorder(d, r) for d in out]


def _area(poly: np.ndarray) -> float:
    x, y = poly[0::2], poly[1::2]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - y * np.roll(x, -1)))


def make_case(seed: int = SEED) -> dict:
    """Label and Task1 file contents: ``dict(labels={image: text}, task1={category: text},
    images=[...], iou_pairs=(P (K, 8), Q (K, 8)))``."""
    r = _Uniform(seed)
    images = [f'P{9001 + i}' for i in range(NUM_IMAGES)]
    labels: Dict[str, list] = {im: [] for im in images}
    dets: List[Tuple[str, str, np.ndarray, float]] = []  # image, category, corners, quality
    pairs_p, pairs_q = [], []
    for im in images:
        if im == EMPTY_IMAGE:
            continue
        lot = (r.u(200, 3800), r.u(200, 3800))  # where this image's small vehicles crowd
        for cls in CLASSES:
            count = {'small-vehicle': 10, 'helicopter': 1}.get(cls, 3)
            for _ in range(r.pick(count + 1) + (1 if im == ALL_DIFFICULT_IMAGE else 0)):
                poly, rect = _label(cls, r, lot if cls == 'small-vehicle' else None)
                hard = 1 if (cls == 'helicopter' or im == ALL_DIFFICULT_IMAGE or r.chance(0.15)) else 0
                if hard and r.chance(0.2):
                    hard = 2
                poly = poly if r.chance(0.5) else poly.reshape(4, 2)[::-1].reshape(8)  # clockwise or not
                poly = np.round(poly, 1)
                labels[im].append((poly, cls, hard))
                for d in _detections_of(poly, rect, r):
                    dets.append((im, cls, d, r.u(0.4, 1.0)))
                    pairs_p.append(poly)
                    pairs_q.append(d)
                if r.chance(0.1):  # another category's box here
                    other = CLASSES[r.pick(len(CLASSES))]
                    dets.append((im, other, _reorder(rect, r), r.u(0.3, 0.9)))
    for im in images:  # false positives, also in the images without (non-difficult) labels
        for cls in CLASSES:
            for _ in range(r.pick(3)):
                poly, _ = _label(cls, r)
                dets.append((im, cls, _reorder(poly, r), r.u(0.0, 0.7)))
    # IoU pairs beyond label/detection: the hard shapes against each other and against their rectangles
    hard_p, hard_q = [], []
    for _ in range(150):
        cls = CLASSES[r.pick(len(CLASSES))]
        p, rect = _label(cls, r)
        q, _ = _label(cls, r)
        q = q - np.tile(q.reshape(4, 2).mean(0) - p.reshape(4, 2).mean(0), 4)  # same centre
        if r.chance(0.3):  # bow-tie, lobes of about equal area
            q = q.reshape(4, 2)[[0, 1, 3, 2]].reshape(8) + np.array([r.u(-1, 1) for _ in range(8)])
        hard_p += [p, p, p]
        hard_q += [_reorder(q, r), _reorder(rect, r), p + np.array([r.u(-1, 1) for _ in range(8)]) * 1e-3]
    # scores: quality plus noise, made distinct by rank (distinct at 6 decimals)
    quality = np.array([q for *_, q in dets]) + np.array([r.u(0, 0.3) for _ in dets])
    rank = np.empty(len(dets), np.int64)
    rank[np.argsort(quality, kind='stable')] = np.arange(len(dets))
    task1 = {c: [] for c in CLASSES}
    for (im, cls, d, _), k in zip(dets, rank):
        task1[cls].append(f'{im} {(k + 1) / (len(dets) + 1):.6f} ' + ' '.join(f'{v:.4f}' for v in d))
    label_text = {}
    for im in images:
        lines = ['imagesource:GoogleEarth', 'gsd:0.146343590398']
        lines += [' '.join(f'{v:.1f}' for v in p) + f' {c} {h}' for p, c, h in labels[im]]
        label_text[im] = '\n'.join(lines) + '\n'
    pairs = (np.array([[float(f'{v:.4f}') for v in p] for p in pairs_p + hard_p]).reshape(-1, 8),
             np.array([[float(f'{v:.4f}') for v in q] for q in pairs_q + hard_q]).reshape(-1, 8))
    return dict(images=images, labels=label_text, task1={c: '\n'.join(v) + '\n' for c, v in task1.items()},
                iou_pairs=pairs)


def write_case(case: dict, root: str) -> Tuple[str, str, str]:
    """Write ``labelTxt/``, ``Task1/`` and ``imageset.txt`` under ``root``; returns their paths."""
    ann_dir, det_dir = osp.join(root, 'labelTxt'), osp.join(root, 'Task1')
    os.makedirs(ann_dir, exist_ok=True)
    os.makedirs(det_dir, exist_ok=True)
    for im, text in case['labels'].items():
        with open(osp.join(ann_dir, im + '.txt'), 'w') as f:
            f.write(text)
    for cls, text in case['task1'].items():
        with open(osp.join(det_dir, f'Task1_{cls}.txt'), 'w') as f:
            f.write(text)
    imageset = osp.join(root, 'imageset.txt')
    with open(imageset, 'w') as f:
        f.write('\n'.join(case['images']) + '\n')
    return ann_dir, det_dir, imageset


def case_digest(case: dict) -> str:
    """sha256 of every generated file and of the IoU pairs: equal digests, equal inputs."""
    h = hashlib.sha256()
    for im in case['images']:
        h.update(case['labels'][im].encode())
    for cls in CLASSES:
        h.update(case['task1'][cls].encode())
    for a in case['iou_pairs']:
        h.update(np.ascontiguousarray(a, '<f8').tobytes())
    return h.hexdigest()
