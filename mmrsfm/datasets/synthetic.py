"""Write tiny datasets in the exact on-disk layouts of remote-sensing benchmarks.

The content is learnable (each class has its own colour and aspect ratio), so a short training run
moves the metric; tests, the quickstart demo and users wanting a smoke test all use these writers.

Command line::

    python -m mmrsfm.datasets.synthetic dota data/dota_demo --num-train 400 --num-val 50 --size 128
"""
import argparse
import os
import os.path as osp
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

#: The 18 DOTA v2.0 categories, spelled as in its label files.
DOTA_V2_CLASSES = ('plane', 'baseball-diamond', 'bridge', 'ground-track-field', 'small-vehicle',
                   'large-vehicle', 'ship', 'tennis-court', 'basketball-court', 'storage-tank',
                   'soccer-ball-field', 'roundabout', 'harbor', 'swimming-pool', 'helicopter',
                   'container-crane', 'airport', 'helipad')

#: Per-class (BGR colour, long/short side ratio) used by :func:`make_dota`.
_DOTA_LOOK: Dict[str, Tuple[Tuple[int, int, int], float]] = {
    'plane': ((60, 60, 230), 1.6),
    'ship': ((60, 220, 60), 3.0),
    'storage-tank': ((230, 120, 40), 1.0),
    'small-vehicle': ((40, 220, 230), 2.0),
    'harbor': ((200, 60, 200), 4.0),
}


def rotated_rect_corners(cx: float, cy: float, w: float, h: float, angle: float) -> np.ndarray:
    """Corners (4, 2) of a w×h rectangle centred at (cx, cy), rotated by ``angle`` radians, in
    clockwise image order starting top-left (the DOTA convention)."""
    c, s = np.cos(angle), np.sin(angle)
    half = np.array([[-w, -h], [w, -h], [w, h], [-w, h]], dtype=np.float64) / 2
    rot = np.array([[c, -s], [s, c]])
    return half @ rot.T + np.array([cx, cy])


def _draw_scene(rng: np.random.Generator, size: int, classes: Sequence[str],
                max_objects: int) -> Tuple[np.ndarray, list]:
    """One image with 1..max_objects non-overlapping rotated objects; returns (img, [(poly, cls)])."""
    img = rng.normal(100, 12, (size, size, 3)).clip(0, 255).astype(np.uint8)
    occupied = np.zeros((size, size), np.uint8)
    objects = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        cls = classes[int(rng.integers(len(classes)))]
        colour, ratio = _DOTA_LOOK.get(cls, ((int(rng.integers(256)), ) * 3, 1.5))
        for _attempt in range(20):
            long_side = rng.uniform(0.18, 0.35) * size
            w, h = long_side, max(long_side / ratio, 6.0)
            cx, cy = rng.uniform(long_side / 2 + 2, size - long_side / 2 - 2, 2)
            poly = rotated_rect_corners(cx, cy, w, h, rng.uniform(0, np.pi))
            mask = np.zeros_like(occupied)
            cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
            if not (mask & occupied).any():
                break
        else:
            continue  # crowded image: keep fewer objects rather than overlapping ones
        occupied |= cv2.dilate(mask, np.ones((5, 5), np.uint8))
        shade = np.array(colour) + rng.integers(-20, 21, 3)
        cv2.fillPoly(img, [np.round(poly).astype(np.int32)], shade.clip(0, 255).tolist())
        objects.append((poly, cls))
    return img, objects


def make_dota(root: str,
              num_train: int = 400,
              num_val: int = 50,
              size: int = 128,
              classes: Sequence[str] = ('plane', 'ship', 'storage-tank'),
              max_objects: int = 4,
              seed: int = 0) -> Dict[str, str]:
    """Write a DOTA-format dataset: ``{split}/images/P%04d.png`` + ``{split}/annfiles/P%04d.txt``.

    This is the layout mmrotate's DOTA splitting tool writes and its ``DOTADataset`` reads: one
    object per line, ``x1 y1 x2 y2 x3 y3 x4 y4 category difficult``, corners clockwise in pixels,
    without the ``imagesource:``/``gsd:`` header lines of the official ``labelTxt`` release.

    Args:
        root: Output directory (created).
        num_train: Images in ``train/``. Hundreds, not tens: mmengine's iteration-based loop sleeps
            2 s at every epoch boundary, which would dominate a short CPU run on a tiny set.
        num_val: Images in ``val/``.
        size: Square image side in pixels.
        classes: DOTA v2.0 category names to draw.
        max_objects: Objects per image are drawn uniformly from 1..max_objects.
        seed: Random seed; the same seed writes identical files.

    Returns:
        ``{split: split directory}``.
    """
    unknown = sorted(set(classes) - set(DOTA_V2_CLASSES))
    if unknown:
        raise ValueError(f'classes {unknown} are not DOTA v2.0 categories: {DOTA_V2_CLASSES}')
    rng = np.random.default_rng(seed)
    out, index = {}, 0
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir, ann_dir = osp.join(root, split, 'images'), osp.join(root, split, 'annfiles')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for _ in range(count):
            img, objects = _draw_scene(rng, size, classes, max_objects)
            name = f'P{index:04d}'
            index += 1
            cv2.imwrite(osp.join(img_dir, name + '.png'), img)
            with open(osp.join(ann_dir, name + '.txt'), 'w') as f:
                for poly, cls in objects:
                    f.write(' '.join(f'{v:.1f}' for v in poly.reshape(-1)) + f' {cls} 0\n')
        out[split] = osp.join(root, split)
    return out


#: LoveDA's label values: 0 is no-data (ignored via ``reduce_zero_label``), 1..7 the classes.
LOVEDA_CLASSES = ('background', 'building', 'road', 'water', 'barren', 'forest', 'agricultural')


def make_loveda(root: str, num_train: int = 16, num_val: int = 4, size: int = 64,
                seed: int = 0) -> Dict[str, str]:
    """Write LoveDA in the layout mmseg's LoveDA converter produces and ``LoveDADataset`` reads:
    ``img_dir/{train,val}/N.png`` (RGB) and ``ann_dir/{train,val}/N.png`` (uint8 labels 0..7).

    Each image is class 1 (background) with a few axis-aligned patches of other classes, each class
    with its own colour, and a no-data (0) border row so ignore handling is exercised.
    """
    rng = np.random.default_rng(seed)
    colours = rng.integers(30, 226, (len(LOVEDA_CLASSES) + 1, 3))
    out, index = {}, 0
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir, ann_dir = osp.join(root, 'img_dir', split), osp.join(root, 'ann_dir', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for _ in range(count):
            label = np.ones((size, size), np.uint8)
            for _patch in range(int(rng.integers(2, 5))):
                x0, y0 = rng.integers(0, size * 3 // 4, 2)
                w, h = rng.integers(size // 6, size // 2, 2)
                label[y0:y0 + h, x0:x0 + w] = rng.integers(2, len(LOVEDA_CLASSES) + 1)
            label[0] = 0
            img = colours[label] + rng.normal(0, 8, (size, size, 3))
            cv2.imwrite(osp.join(img_dir, f'{index}.png'), img.clip(0, 255).astype(np.uint8))
            cv2.imwrite(osp.join(ann_dir, f'{index}.png'), label)
            index += 1
        out[split] = img_dir
    return out


#: The 10 NWPU VHR-10 categories.
NWPU_VHR10_CLASSES = ('airplane', 'ship', 'storage tank', 'baseball diamond', 'tennis court',
                      'basketball court', 'ground track field', 'harbor', 'bridge', 'vehicle')


def make_coco_instances(root: str, num_train: int = 16, num_val: int = 4, size: int = 128,
                        classes: Sequence[str] = NWPU_VHR10_CLASSES[:3], seed: int = 0) -> Dict[str, str]:
    """Write a COCO instance-segmentation dataset: ``images/{split}/*.png`` and
    ``annotations/instances_{split}.json`` (polygon masks, ``[x, y, w, h]`` boxes, 1-based ids).

    Objects are the rotated rectangles of :func:`make_dota`, so each mask is their polygon.
    """
    import json
    rng = np.random.default_rng(seed)
    categories = [dict(id=i + 1, name=name, supercategory='object') for i, name in enumerate(classes)]
    cat_id = {name: i + 1 for i, name in enumerate(classes)}
    out, img_id, ann_id = {}, 1, 1
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir = osp.join(root, 'images', split)
        os.makedirs(img_dir, exist_ok=True)
        images, annotations = [], []
        for _ in range(count):
            img, objects = _draw_scene(rng, size, classes, 4)
            name = f'{img_id:05d}.png'
            cv2.imwrite(osp.join(img_dir, name), img)
            images.append(dict(id=img_id, file_name=name, width=size, height=size))
            for poly, cls in objects:
                x0, y0 = poly.min(0).clip(0, size)
                x1, y1 = poly.max(0).clip(0, size)
                annotations.append(dict(
                    id=ann_id, image_id=img_id, category_id=cat_id[cls], iscrowd=0,
                    segmentation=[[round(float(v), 1) for v in poly.reshape(-1)]],
                    bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                    area=float(cv2.contourArea(poly.astype(np.float32)))))
                ann_id += 1
            img_id += 1
        ann_file = osp.join(root, 'annotations', f'instances_{split}.json')
        with open(ann_file, 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
        out[split] = ann_file
    return out


def make_optical_sar_pairs(root: str, num_train: int = 16, num_val: int = 0, size: int = 64,
                           seed: int = 0) -> Dict[str, str]:
    """Write co-registered pairs ``optical/N.png`` (3 bands) and ``sar/N.png`` (1 band, speckled
    backscatter of the same objects) for self-supervised pretraining; ``num_val`` is unused."""
    rng = np.random.default_rng(seed)
    dirs = {m: osp.join(root, m) for m in ('optical', 'sar')}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    for i in range(num_train):
        img, objects = _draw_scene(rng, size, ('plane', 'ship', 'storage-tank'), 4)
        mask = np.zeros((size, size), np.uint8)
        for poly, _ in objects:
            cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
        backscatter = 40 + 160 * mask.astype(np.float64)
        sar = backscatter * rng.gamma(4.0, 1 / 4.0, mask.shape)  # 4-look multiplicative speckle
        cv2.imwrite(osp.join(dirs['optical'], f'{i:05d}.png'), img)
        cv2.imwrite(osp.join(dirs['sar'], f'{i:05d}.png'), sar.clip(0, 255).astype(np.uint8))
    return dirs


WRITERS = {'dota': make_dota, 'loveda': make_loveda, 'coco': make_coco_instances,
           'optsar': make_optical_sar_pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description='Write a small synthetic dataset in a real format.')
    parser.add_argument('format', choices=sorted(WRITERS), help='on-disk layout to write')
    parser.add_argument('root', help='output directory')
    parser.add_argument('--num-train', type=int, help="images in the train split (writer's default)")
    parser.add_argument('--num-val', type=int, help="images in the val split (writer's default)")
    parser.add_argument('--size', type=int, help="square image side (writer's default)")
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    given = dict(num_train=args.num_train, num_val=args.num_val, size=args.size)
    kwargs = {k: v for k, v in given.items() if v is not None}
    splits = WRITERS[args.format](args.root, seed=args.seed, **kwargs)
    print(f'wrote {args.format} dataset: ' + ', '.join(f'{k}={v}' for k, v in splits.items()))


if __name__ == '__main__':
    main()
