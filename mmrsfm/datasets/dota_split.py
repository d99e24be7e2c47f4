"""Read DOTA's ``labelTxt`` files and split its large images into overlapping patches.

The conventions below were checked against the official DOTA_devkit (``ImgSplit_multi_process.py``,
``dota_evaluation_task1.py``) and mmrotate 1.x's ``tools/data/dota/split/img_split.py``; where the two
tools differ, the choice is stated.

* **Windows.** ``patch_size`` squares every ``patch_size - gap`` pixels (``gap`` is the overlap);
  the last window of each row and column is moved back to end at the image border (both tools). A
  side shorter than ``patch_size`` gets one window, padded at the right/bottom with ``fill``.
* **Scales.** As in the devkit, the *image* is resized by each ``rate`` and then cut into
  ``patch_size`` windows, so every patch has the same size. The patch is named
  ``{image}__{rate:g}__{x}___{y}`` (the devkit's name; ``(x, y)`` is the window's corner in the
  resized image), and a box maps back to the original image as ``(p + (x, y)) / rate``. mmrotate's
  tool instead cuts ``patch_size / rate`` windows from the *original* image, names them
  ``{image}__{window}__{x}___{y}`` and leaves the resize to the pipeline; that is why its
  ``DOTAMetric(merge_patches=True)`` only adds ``(x, y)`` — right for its own patches, wrong for
  these (and the devkit's) at any rate other than 1. ``mmrsfm.DOTAMergeMetric`` handles both.
* **Objects.** An object goes into a window when the visible fraction of its polygon (intersection
  area / polygon area, "iof") is ``>= iof_thr`` (mmrotate; the devkit keeps every object with
  iof > 0 and marks those with iof <= thr difficult 2). A truncated object (iof < 1) is written as
  its visible part: the polygon clipped to the window and reduced to 4 corners (the devkit clips;
  mmrotate writes the whole polygon, reaching outside the patch), with difficulty
  ``trunc_difficult`` (2, as mmrotate writes for every truncated object; the devkit keeps the
  object's own flag when iof > thr). mmrotate's ``DOTADataset`` ignores only difficulty >
  ``diff_thr`` (100 by default), so the flag changes nothing unless a config asks for it.
"""
import json
import logging
import multiprocessing
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine.logging import print_log

from .file_checks import IMG_EXTENSIONS

#: The 18 DOTA v2.0 categories as spelled in its label files, in the order of mmrotate's
#: ``DOTAv2Dataset`` (its label indices): DOTA v1.0's 15, then container-crane (v1.5), airport and
#: helipad (v2.0). Source: the category list of the DOTA release page
#: (https://captain-whu.github.io/DOTA/dataset.html) and Ding et al., "Object Detection in Aerial
#: Images: A Large-Scale Benchmark and Challenges", TPAMI 2021.
DOTA_V2_CLASSES = ('plane', 'baseball-diamond', 'bridge', 'ground-track-field', 'small-vehicle',
                   'large-vehicle', 'ship', 'tennis-court', 'basketball-court', 'storage-tank',
                   'soccer-ball-field', 'roundabout', 'harbor', 'swimming-pool', 'helicopter',
                   'container-crane', 'airport', 'helipad')
_HEADER = re.compile(r'^(\w+):(.*)$')
_PATCH_NAME = re.compile(r'^(?P<image>.+)__(?P<rate>\d+(?:\.\d+)?)__(?P<x>\d+)___(?P<y>\d+)$')


class DOTAFormatError(ValueError):
    """A DOTA label or result file cannot be read; the message names ``file:line``."""


@dataclass
class DOTALabels:
    """The objects of one image.

    Attributes:
        polys: ``(N, 8)`` corners ``x1 y1 ... x4 y4`` in pixels.
        names: ``N`` category names.
        difficult: ``(N,)`` difficulty flags (0 or 1 in the release, 2 for truncated patch objects).
        header: ``key:value`` lines before the objects, e.g. ``{'imagesource': 'GoogleEarth',
            'gsd': 0.146}``; ``gsd`` is a float, or None when the file says ``gsd:null``.
        num_unknown: Objects of categories outside ``classes`` that were skipped.
    """
    polys: np.ndarray
    names: List[str]
    difficult: np.ndarray
    header: Dict[str, Any] = field(default_factory=dict)
    num_unknown: int = 0

    @classmethod
    def empty(cls) -> 'DOTALabels':
        return cls(np.zeros((0, 8)), [], np.zeros(0, np.int64))


def parse_dota_txt(path: str, classes: Optional[Sequence[str]] = DOTA_V2_CLASSES,
                   skip_unknown: bool = False) -> DOTALabels:
    """Read a DOTA label file: optional ``key:value`` header lines, then one object per line.

    Object lines are ``x1 y1 x2 y2 x3 y3 x4 y4 category [difficult]`` (a missing flag reads as 0, as
    the official evaluation does). Both the release's ``labelTxt`` (with ``imagesource:``/``gsd:``
    headers) and split ``annfiles`` (without) are accepted.

    Args:
        path: The ``.txt`` file.
        classes: Known category names; None accepts any. Defaults to the DOTA v2.0 categories.
        skip_unknown: Drop objects of unknown categories (counted in ``num_unknown``) instead of
            raising.

    Raises:
        DOTAFormatError: A malformed line or an unknown category; the message names ``path:line``.
    """
    polys, names, difficult, header, num_unknown = [], [], [], {}, 0
    known = None if classes is None else set(classes)
    seen_object = False
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            text = line.strip()
            if not text:
                continue
            match = _HEADER.match(text)
            if match and not seen_object:
                key, value = match.groups()
                header[key] = _header_value(key, value.strip())
                continue
            seen_object = True
            tokens = text.split()
            try:
                if len(tokens) not in (9, 10):
                    raise ValueError
                coords = [float(v) for v in tokens[:8]]
                flag = int(tokens[9]) if len(tokens) == 10 else 0
                if not np.isfinite(coords).all():
                    raise ValueError
            except ValueError:
                raise DOTAFormatError(f'{path}:{lineno}: expected "x1 y1 x2 y2 x3 y3 x4 y4 category difficult" '
                                      f'(8 numbers, a name, an optional integer), got {text!r}') from None
            name = tokens[8]
            if known is not None and name not in known:
                if skip_unknown:
                    num_unknown += 1
                    continue
                raise DOTAFormatError(f'{path}:{lineno}: unknown category {name!r}; known: {", ".join(classes)}. '
                                      f'Pass skip_unknown=True (--skip-unknown) to drop such objects.')
            polys.append(coords)
            names.append(name)
            difficult.append(flag)
    return DOTALabels(np.array(polys, np.float64).reshape(-1, 8), names, np.array(difficult, np.int64), header,
                      num_unknown)


def _header_value(key: str, value: str) -> Any:
    if key != 'gsd':
        return value
    try:
        return float(value)
    except ValueError:  # the release writes gsd:null (or None) for images of unknown resolution
        return None


def format_dota_line(poly: np.ndarray, name: str, difficult: int) -> str:
    """One object line, ``x1 y1 ... x4 y4 category difficult`` (coordinates to 0.01 px)."""
    return ' '.join(f'{v:.2f}' for v in np.asarray(poly).reshape(-1)) + f' {name} {int(difficult)}'


def patch_name(image: str, rate: float, x: int, y: int) -> str:
    """``{image}__{rate:g}__{x}___{y}``: the DOTA devkit's patch name, read back by
    :func:`parse_patch_name` (and, for ``(x, y)``, by mmrotate's ``DOTAMetric`` regex)."""
    return f'{image}__{rate:g}__{x}___{y}'


def parse_patch_name(name: str) -> Tuple[str, float, int, int]:
    """``(image, rate, x, y)`` from a patch name; raises ValueError if it is not one."""
    match = _PATCH_NAME.match(name)
    if match is None:
        raise ValueError(f'{name!r} is not a DOTA patch name "{{image}}__{{rate}}__{{x}}___{{y}}"')
    return match['image'], float(match['rate']), int(match['x']), int(match['y'])


def window_starts(length: int, patch_size: int, gap: int) -> List[int]:
    """Start offsets of the windows along one image side; the last window ends at the border."""
    if not 0 <= gap < patch_size:
        raise ValueError(f'gap must be in [0, patch_size), got gap={gap}, patch_size={patch_size}')
    if length <= patch_size:
        return [0]
    return list(range(0, length - patch_size, patch_size - gap)) + [length - patch_size]


def sliding_windows(width: int, height: int, patch_size: int, gap: int) -> np.ndarray:
    """``(K, 4)`` windows ``x0 y0 x1 y1`` (``x1 = x0 + patch_size``), row by row."""
    xs, ys = window_starts(width, patch_size, gap), window_starts(height, patch_size, gap)
    return np.array([(x, y, x + patch_size, y + patch_size) for y in ys for x in xs], np.int64)


def polygon_area(poly: np.ndarray) -> float:
    """Area of a simple polygon ``(K, 2)`` (shoelace formula)."""
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def clip_polygon(poly: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """Clip a polygon ``(K, 2)`` to the axis-aligned box ``x0 y0 x1 y1`` (Sutherland-Hodgman).

    Exact for convex polygons such as DOTA's quadrilaterals; the result keeps the input's vertex
    order (orientation) and may have 0 to K + 4 vertices.
    """
    pts = np.asarray(poly, np.float64)
    for axis, bound, keep_above in ((0, box[0], True), (1, box[1], True), (0, box[2], False), (1, box[3], False)):
        if len(pts) == 0:
            break
        inside = pts[:, axis] >= bound if keep_above else pts[:, axis] <= bound
        out = []
        for i in range(len(pts)):
            prev, cur = pts[i - 1], pts[i]
            if inside[i] != inside[i - 1]:  # the edge crosses the boundary: keep the crossing point
                t = (bound - prev[axis]) / (cur[axis] - prev[axis])
                out.append(prev + t * (cur - prev))
            if inside[i]:
                out.append(cur)
        pts = np.array(out).reshape(-1, 2)
    return pts


def to_quadrilateral(poly: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Reduce a clipped polygon ``(K, 2)`` to 4 corners, starting at the one nearest ``ref[0]``.

    Repeated and collinear vertices (which clipping creates) are dropped first; then, while more
    than 4 remain, the shortest edge is collapsed to its midpoint (the devkit's rule for 5 corners,
    applied repeatedly rather than dropping the object); a triangle gets its longest edge split. The
    corner order is rotated to best match ``ref`` (the devkit's rule), so the first corner keeps the
    meaning it has in DOTA (the object's head for some categories).
    """
    pts = _simplify(poly)
    while len(pts) > 4:
        edges = np.linalg.norm(np.roll(pts, -1, 0) - pts, axis=1)
        i = int(edges.argmin())
        j = (i + 1) % len(pts)
        pts[i] = (pts[i] + pts[j]) / 2
        pts = np.delete(pts, j, 0)
    while len(pts) < 4:
        edges = np.linalg.norm(np.roll(pts, -1, 0) - pts, axis=1)
        i = int(edges.argmax())
        pts = np.insert(pts, i + 1, (pts[i] + pts[(i + 1) % len(pts)]) / 2, 0)
    shift = min(range(4), key=lambda k: float(((np.roll(pts, -k, 0) - ref)**2).sum()))
    return np.roll(pts, -shift, 0)


def _simplify(poly: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Drop repeated vertices and vertices on a straight edge (clipping makes both), keeping >= 3."""
    pts = np.asarray(poly, np.float64)
    changed = True
    while changed and len(pts) > 3:
        changed = False
        for i in range(len(pts)):
            a, b, c = pts[i - 1], pts[i], pts[(i + 1) % len(pts)]
            ab, bc = b - a, c - b
            if np.linalg.norm(ab) < eps or abs(ab[0] * bc[1] - ab[1] * bc[0]) < eps * max(np.linalg.norm(bc), 1):
                pts = np.delete(pts, i, 0)
                changed = True
                break
    return pts


def crop_objects(polys: np.ndarray, window: Sequence[int],
                 iof_thr: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The objects a window keeps, in window coordinates.

    Args:
        polys: ``(N, 8)`` polygons in the (resized) image.
        window: ``x0 y0 x1 y1``.
        iof_thr: Minimum visible fraction of a polygon for it to be kept.

    Returns:
        ``(indices (K,), polygons (K, 8) relative to (x0, y0), truncated (K,) bool)``; a truncated
        polygon is its part inside the window, as 4 corners.
    """
    x0, y0, x1, y1 = window
    corners = polys.reshape(-1, 4, 2)
    lo, hi = corners.min(1), corners.max(1)
    inside = (lo >= (x0, y0)).all(1) & (hi <= (x1, y1)).all(1)
    touching = (hi > (x0, y0)).all(1) & (lo < (x1, y1)).all(1)
    keep, out, truncated = [], [], []
    for i in np.flatnonzero(touching):
        quad = corners[i]
        if not inside[i]:
            area = polygon_area(quad)
            visible = clip_polygon(quad, window) if area > 0 else np.zeros((0, 2))
            if len(visible) < 3 or polygon_area(visible) < iof_thr * area:
                continue
            quad = to_quadrilateral(visible, quad)
        keep.append(i)
        out.append((quad - (x0, y0)).reshape(-1))
        truncated.append(not inside[i])
    return np.array(keep, np.int64), np.array(out, np.float64).reshape(-1, 8), np.array(truncated, bool)


@dataclass
class Patch:
    """One window of one scale: the pixels and the objects, in patch coordinates."""
    rate: float
    x: int
    y: int
    img: np.ndarray  # (patch_size, patch_size, C)
    labels: DOTALabels


def split_image(img: np.ndarray, labels: Optional[DOTALabels] = None, patch_size: int = 1024, gap: int = 200,
                rates: Sequence[float] = (1.0, ), iof_thr: float = 0.7, trunc_difficult: Optional[int] = 2,
                fill: Union[int, Sequence[int]] = 0) -> Iterator[Patch]:
    """Cut one image (and its labels) into patches at each scale; see the module notes.

    Args:
        img: ``(H, W, C)`` image.
        labels: Its objects, or None for an unlabelled (test) image.
        patch_size: Patch side in pixels.
        gap: Overlap of neighbouring windows in pixels.
        rates: Scales; the image is resized by each before cutting (``INTER_AREA`` when shrinking, to
            avoid aliasing; ``INTER_CUBIC`` when enlarging, as the devkit).
        iof_thr: Minimum visible fraction of an object to keep it in a patch.
        trunc_difficult: Difficulty written for truncated objects; None keeps the object's own.
        fill: Padding value (one, or one per channel) for windows larger than the image.

    Yields:
        A :class:`Patch` per window and scale.
    """
    labels = DOTALabels.empty() if labels is None else labels
    height, width = img.shape[:2]
    for rate in rates:
        if rate <= 0:
            raise ValueError(f'rates must be positive, got {rate}')
        if rate == 1:
            scaled = img
        else:
            size = (max(1, round(width * rate)), max(1, round(height * rate)))
            scaled = cv2.resize(img, size, interpolation=cv2.INTER_AREA if rate < 1 else cv2.INTER_CUBIC)
        polys = labels.polys * rate
        for window in sliding_windows(scaled.shape[1], scaled.shape[0], patch_size, gap):
            keep, quads, truncated = crop_objects(polys, window, iof_thr)
            difficult = labels.difficult[keep].copy()
            if trunc_difficult is not None:
                difficult[truncated] = trunc_difficult
            patch_labels = DOTALabels(quads, [labels.names[i] for i in keep], difficult)
            x0, y0 = int(window[0]), int(window[1])
            yield Patch(rate, x0, y0, _crop_padded(scaled, x0, y0, patch_size, fill), patch_labels)


def _crop_padded(img: np.ndarray, x: int, y: int, size: int, fill: Union[int, Sequence[int]]) -> np.ndarray:
    crop = img[y:y + size, x:x + size]
    if crop.shape[:2] == (size, size):
        return crop
    padded = np.empty((size, size) + img.shape[2:], img.dtype)
    padded[...] = fill  # right/bottom padding only, so patch coordinates stay image coordinates
    padded[:crop.shape[0], :crop.shape[1]] = crop
    return padded


def split_dota(img_dirs: Union[str, Sequence[str]], out_dir: str,
               ann_dirs: Union[None, str, Sequence[Optional[str]]] = None, patch_size: int = 1024, gap: int = 200,
               rates: Sequence[float] = (1.0, ), iof_thr: float = 0.7, trunc_difficult: Optional[int] = 2,
               save_empty: bool = False, fill: Union[int, Sequence[int]] = 0,
               classes: Optional[Sequence[str]] = DOTA_V2_CLASSES, skip_unknown: bool = False,
               allow_missing_labels: bool = False, img_ext: str = '.png', nproc: int = 1) -> Dict[str, Any]:
    """Split DOTA images (and ``labelTxt`` files) into the patch layout mmrotate's ``DOTADataset`` reads.

    Writes ``out_dir/images/{patch}{img_ext}``, ``out_dir/annfiles/{patch}.txt`` (when labels are
    given; object lines without header) and ``out_dir/meta.json`` (the split parameters, and per image
    its size, header fields such as ``gsd``, object and patch counts). All label files are read before
    any image, so a bad label fails before anything is written.

    Args:
        img_dirs: Image folder(s), e.g. ``train/images`` and ``val/images`` for a trainval split.
        out_dir: Output folder; its ``images/`` must not exist yet or be empty.
        ann_dirs: ``labelTxt`` folder per image folder; None for unlabelled (test) images.
        patch_size, gap, rates, iof_thr, trunc_difficult, fill: See :func:`split_image`.
        save_empty: Also write patches without objects. Unlabelled images keep every patch.
        classes: Known categories, see :func:`parse_dota_txt`.
        skip_unknown: Drop (and count) objects of unknown categories instead of raising.
        allow_missing_labels: Treat an image without a label file as having no objects (counted)
            instead of raising FileNotFoundError.
        img_ext: Extension of the written patches (mmrotate's ``DOTADataset`` expects ``.png``).
        nproc: Worker processes for cutting and writing images.

    Returns:
        The counts also written to ``meta.json``: ``images``, ``patches``, ``empty_patches_dropped``,
        ``unknown_objects_skipped``, ``missing_label_files``, ``zero_area_objects_dropped`` and
        ``objects_outside_image`` (objects no patch can hold; both logged with their files).

    Raises:
        DOTAFormatError: A malformed label line or unknown category (``file:line``).
        FileNotFoundError: An image without label file (unless ``allow_missing_labels``).
        OSError: An image that cannot be decoded (named).
    """
    img_dirs = [img_dirs] if isinstance(img_dirs, str) else list(img_dirs)
    if ann_dirs is None:
        ann_dirs = [None] * len(img_dirs)
    ann_dirs = [ann_dirs] if isinstance(ann_dirs, str) else list(ann_dirs)
    if len(ann_dirs) != len(img_dirs):
        raise ValueError(f'{len(img_dirs)} image folders but {len(ann_dirs)} label folders')
    img_out, ann_out = osp.join(out_dir, 'images'), osp.join(out_dir, 'annfiles')
    if osp.isdir(img_out) and os.listdir(img_out):
        raise FileExistsError(f'{img_out} is not empty; remove it or choose another out_dir, so patches '
                              f'of different splits are not mixed')

    jobs, missing, unknown, zero_area = [], 0, 0, []
    for img_dir, ann_dir in zip(img_dirs, ann_dirs):
        if not osp.isdir(img_dir):
            raise FileNotFoundError(f'image folder {img_dir} does not exist')
        if ann_dir is not None and not osp.isdir(ann_dir):
            raise FileNotFoundError(_missing_label_folder(img_dir, ann_dir))
        for file in sorted(os.listdir(img_dir)):
            stem, ext = osp.splitext(file)
            if ext.lower() not in IMG_EXTENSIONS:
                continue
            labels = None
            if ann_dir is not None:
                txt = osp.join(ann_dir, stem + '.txt')
                if osp.isfile(txt):
                    labels = parse_dota_txt(txt, classes, skip_unknown)
                    unknown += labels.num_unknown
                    labels, dropped = _drop_zero_area(labels)
                    zero_area += [f'{txt} (object {i + 1})' for i in dropped]
                elif allow_missing_labels:
                    missing += 1
                    labels = DOTALabels.empty()
                else:
                    raise FileNotFoundError(f'{txt} does not exist for image {osp.join(img_dir, file)}. Pass '
                                            f'allow_missing_labels=True (--allow-missing-labels) to split such '
                                            f'images as having no objects.')
            jobs.append((osp.join(img_dir, file), labels))
    stems = [osp.splitext(osp.basename(path))[0] for path, _ in jobs]
    if len(set(stems)) != len(stems):  # their patches would overwrite each other
        twice = sorted({s for s in stems if stems.count(s) > 1})
        raise ValueError(f'image names occur in more than one folder of {img_dirs}: {twice[:5]}')
    if not jobs:
        raise FileNotFoundError(f'no images ({", ".join(IMG_EXTENSIONS)}) in {", ".join(img_dirs)}')

    os.makedirs(img_out, exist_ok=True)
    if any(d is not None for d in ann_dirs):
        os.makedirs(ann_out, exist_ok=True)
    worker = partial(_split_and_write, img_out=img_out, ann_out=ann_out, patch_size=patch_size, gap=gap,
                     rates=tuple(rates), iof_thr=iof_thr, trunc_difficult=trunc_difficult, save_empty=save_empty,
                     fill=fill, img_ext=img_ext)
    if nproc > 1:
        with multiprocessing.Pool(nproc) as pool:
            infos = pool.map(worker, jobs, chunksize=1)
    else:
        infos = [worker(job) for job in jobs]

    dropped = sum(info.pop('empty_dropped') for info in infos)
    outside = [f"{info['file']} ({info['outside']})" for info in infos if info['outside']]
    images = dict(zip(stems, infos))
    counts = dict(images=len(images), patches=sum(i['patches'] for i in infos), empty_patches_dropped=dropped,
                  unknown_objects_skipped=unknown, missing_label_files=missing,
                  zero_area_objects_dropped=len(zero_area),
                  objects_outside_image=sum(i['outside'] for i in infos))
    if zero_area or outside:  # objects no patch can hold: dropped, so say which
        print_log('DOTA split: objects dropped because no patch can hold them: '
                  + '; '.join(filter(None, [
                      f'{len(zero_area)} of zero area: ' + ', '.join(zero_area[:5]) if zero_area else '',
                      f"{counts['objects_outside_image']} entirely outside their image: " + ', '.join(outside[:5])
                      if outside else ''])) + '. Fix: correct these label lines if the objects are real.',
                  logger='current', level=logging.WARNING)
    params = dict(patch_size=patch_size, gap=gap, rates=list(rates), iof_thr=iof_thr,
                  trunc_difficult=trunc_difficult, save_empty=save_empty, fill=fill, img_ext=img_ext,
                  img_dirs=img_dirs, ann_dirs=ann_dirs)
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(dict(params=params, counts=counts, images=images), f, indent=1)
    print_log('DOTA split: ' + ', '.join(f'{k}={v}' for k, v in counts.items()) + f' -> {out_dir}',
              logger='current')
    return counts


def _drop_zero_area(labels: DOTALabels) -> Tuple[DOTALabels, List[int]]:
    """``labels`` without its zero-area objects (degenerate polygons no window can hold), and their indices."""
    zero = [i for i, poly in enumerate(labels.polys) if polygon_area(poly.reshape(4, 2)) <= 1e-9]
    if not zero:
        return labels, []
    keep = np.setdiff1d(np.arange(len(labels.names)), zero)
    return DOTALabels(labels.polys[keep], [labels.names[i] for i in keep], labels.difficult[keep], labels.header,
                      labels.num_unknown), zero


def _missing_label_folder(img_dir: str, ann_dir: str) -> str:
    """The message for a whole label folder that is missing (not one image's label file)."""
    sibling = osp.join(osp.dirname(osp.normpath(img_dir)), 'labelTxt')
    where = (f"the release keeps them next to the images: '{sibling}' exists, pass that" if osp.isdir(sibling)
             and osp.normpath(sibling) != osp.normpath(ann_dir) else
             'the release keeps them in {train,val}/labelTxt next to {train,val}/images')
    return (f"label folder '{ann_dir}' (--ann-dirs, for the images in '{img_dir}') does not exist. Fix: {where}; for "
            f'the unlabelled test split leave --ann-dirs out (every patch is kept). (--allow-missing-labels is '
            f'for single images without a label file, not for a missing folder.)')


def _split_and_write(job: Tuple[str, Optional[DOTALabels]], img_out: str, ann_out: str, save_empty: bool,
                     img_ext: str, **split_kwargs) -> Dict[str, Any]:
    """Split one image and write its patches; returns its entry of ``meta.json``."""
    path, labels = job
    img = cv2.imread(path, cv2.IMREAD_COLOR)  # 8-bit BGR, as both DOTA tools and mmdet's loader read it
    if img is None:
        raise OSError(f'{path} cannot be decoded as an image (corrupted or not an image file)')
    stem = osp.splitext(osp.basename(path))[0]
    written = dropped = 0
    for patch in split_image(img, labels, **split_kwargs):
        if labels is not None and not patch.labels.names and not save_empty:
            dropped += 1
            continue
        name = patch_name(stem, patch.rate, patch.x, patch.y)
        if not cv2.imwrite(osp.join(img_out, name + img_ext), patch.img):
            raise OSError(f'could not write {osp.join(img_out, name + img_ext)}')
        if labels is not None:
            with open(osp.join(ann_out, name + '.txt'), 'w') as f:
                f.writelines(format_dota_line(p, n, d) + '\n'
                             for p, n, d in zip(patch.labels.polys, patch.labels.names, patch.labels.difficult))
        written += 1
    header = {} if labels is None else labels.header
    outside = 0
    if labels is not None and len(labels.names):
        corners = labels.polys.reshape(-1, 4, 2)
        lo, hi = corners.min(1), corners.max(1)
        outside = int(((hi <= 0).any(1) | (lo >= (img.shape[1], img.shape[0])).any(1)).sum())
    return dict(file=osp.basename(path), width=img.shape[1], height=img.shape[0], header=header,
                objects=0 if labels is None else len(labels.names), patches=written, empty_dropped=dropped,
                outside=outside)
