"""Binary masks -> COCO instance annotations that rasterise back to exactly the same pixels.

Polygons are traced along pixel *edges* (not through pixel centres as ``cv2.findContours`` does): a
centre-line contour drops half a pixel all round, i.e. a whole row and column of a 10x10 building,
while pycocotools rasterises an edge polygon to the original pixels. COCO polygons cannot express
holes (pycocotools unions the polygons of an object), so an instance with a hole (a courtyard) is
written as RLE instead (exact by construction); every polygon encoding is checked against its mask.
"""
from typing import Dict, List, Tuple, Union

import cv2
import numpy as np
from pycocotools import mask as mask_utils

Segmentation = Union[List[List[float]], Dict[str, object]]


def _edge_loops(mask: np.ndarray) -> List[np.ndarray]:
    """Closed loops of pixel-corner coordinates (x, y) around the foreground of ``mask``.

    Each foreground/background pixel edge becomes a directed unit edge with the foreground on its
    right (outer boundaries run clockwise on screen, holes anticlockwise). At a corner shared by two
    diagonal foreground pixels the walk turns right, keeping the two pixels in separate loops.
    """
    m = np.pad(mask.astype(bool), 1)
    fg = m[1:-1, 1:-1]
    rows, cols = np.nonzero(fg & ~m[:-2, 1:-1])  # top edges: (c, r) -> (c+1, r)
    starts = [np.stack([cols, rows], 1)]
    dirs = [np.tile([1, 0], (len(rows), 1))]
    rows, cols = np.nonzero(fg & ~m[1:-1, 2:])  # right edges: (c+1, r) -> (c+1, r+1)
    starts.append(np.stack([cols + 1, rows], 1))
    dirs.append(np.tile([0, 1], (len(rows), 1)))
    rows, cols = np.nonzero(fg & ~m[2:, 1:-1])  # bottom edges: (c+1, r+1) -> (c, r+1)
    starts.append(np.stack([cols + 1, rows + 1], 1))
    dirs.append(np.tile([-1, 0], (len(rows), 1)))
    rows, cols = np.nonzero(fg & ~m[1:-1, :-2])  # left edges: (c, r+1) -> (c, r)
    starts.append(np.stack([cols, rows + 1], 1))
    dirs.append(np.tile([0, -1], (len(rows), 1)))
    outgoing: Dict[Tuple[int, int], List[Tuple[int, int]]] = {}
    edges = list(zip(map(tuple, np.concatenate(starts).tolist()), map(tuple, np.concatenate(dirs).tolist())))
    for vertex, direction in edges:
        outgoing.setdefault(vertex, []).append(direction)

    loops, used = [], set()
    for first in edges:
        if first in used:
            continue
        vertex, direction = first
        points = []
        while True:
            used.add((vertex, direction))
            points.append(vertex)
            vertex = (vertex[0] + direction[0], vertex[1] + direction[1])
            options = outgoing[vertex]
            # A saddle corner has two ways out: turn right, (dx, dy) -> (-dy, dx) in image axes.
            direction = options[0] if len(options) == 1 else (-direction[1], direction[0])
            if (vertex, direction) == first:
                break
        pts = np.asarray(points, dtype=np.float64)
        # Keep corners only: drop vertices where the walk goes straight on (lossless).
        prev_d, next_d = pts - np.roll(pts, 1, 0), np.roll(pts, -1, 0) - pts
        loops.append(pts[(prev_d[:, 0] * next_d[:, 1] - prev_d[:, 1] * next_d[:, 0]) != 0])
    return loops


def _signed_area(loop: np.ndarray) -> float:
    """Shoelace area in image axes: positive for outer (clockwise on screen) loops, negative for holes."""
    x, y = loop[:, 0], loop[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def mask_to_segmentation(mask: np.ndarray) -> Segmentation:
    """COCO ``segmentation`` of one instance: edge polygons, or RLE when the instance has a hole.

    Args:
        mask: (H, W) bool/0-1 mask of one instance, in full-image coordinates.

    Returns:
        A list of flat ``[x0, y0, x1, y1, ...]`` polygons, or ``{'size': [H, W], 'counts': str}``.
    """
    mask = mask.astype(bool)
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    y0, x0 = int(ys.min()), int(xs.min())
    crop = mask[y0:ys.max() + 1, x0:xs.max() + 1]
    loops = _edge_loops(crop)
    if all(_signed_area(loop) > 0 for loop in loops):  # no hole
        # Rasterise on the crop to confirm pixel-exactness (cheap); fall back to RLE otherwise.
        local = [loop.reshape(-1).tolist() for loop in loops]
        rle = mask_utils.merge(mask_utils.frPyObjects(local, crop.shape[0], crop.shape[1]))
        if np.array_equal(mask_utils.decode(rle).astype(bool), crop):
            return [(loop + [x0, y0]).reshape(-1).tolist() for loop in loops]
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return dict(size=[h, w], counts=rle['counts'].decode('ascii'))


def mask_to_instances(mask: np.ndarray, min_area: int = 0,
                      connectivity: int = 8) -> Tuple[List[dict], int]:
    """Split a binary mask into connected components and encode each as a COCO annotation body.

    Args:
        mask: (H, W) binary mask (non-zero = foreground).
        min_area: Components with fewer pixels are dropped (and counted).
        connectivity: 8 (diagonal neighbours join a component, cv2's default) or 4.

    Returns:
        (annotations without ``id``/``image_id``/``category_id``: ``segmentation``, ``area`` (pixel
        count), ``bbox`` ``[x, y, w, h]`` over pixel edges, ``iscrowd`` 0; number dropped by ``min_area``).
    """
    num, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=connectivity)
    annotations, dropped = [], 0
    for i in range(1, num):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < min_area:
            dropped += 1
            continue
        annotations.append(dict(segmentation=mask_to_segmentation(labels == i), area=float(area),
                                bbox=[float(x), float(y), float(w), float(h)], iscrowd=0))
    return annotations, dropped


def segmentation_to_mask(segmentation: Segmentation, height: int, width: int) -> np.ndarray:
    """Rasterise a COCO segmentation (polygons or RLE) the way mmdet and pycocotools do."""
    if isinstance(segmentation, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    else:
        rle = dict(size=segmentation['size'], counts=segmentation['counts'].encode('ascii')) \
            if isinstance(segmentation['counts'], str) else segmentation
    return mask_utils.decode(rle).astype(bool)
