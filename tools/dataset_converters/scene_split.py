"""Per-class random train/test split lists for folder-per-class scene datasets (AID, NWPU-RESISC45, UC Merced).

    python tools/dataset_converters/scene_split.py data/AID --ratio 0.2 --seed 0
    # -> data/AID/train_20.txt, data/AID/test_20.txt  (lines '<ClassFolder>/<file>', sorted)

Each class gets exactly round(n_c * ratio) train images (halves round up), ``--val-ratio`` takes
round(n_c * val_ratio) of the rest for ``val_20.txt``; the rest is test. Use the lists as
``split_file`` of ``mmrsfm.AIDDataset`` etc. (see ``mmrsfm.datasets.scene_classification.stratified_split``).
"""
import argparse
import logging
import os.path as osp
from collections import Counter

from mmengine.logging import print_log

from mmrsfm.datasets.scene_classification import scan_class_folders, stratified_split, write_split_files


def main() -> None:
    parser = argparse.ArgumentParser(description='Write per-class stratified train/test lists of a '
                                     'folder-per-class scene dataset.')
    parser.add_argument('data_root', help='image root: the folder holding one sub-folder per class')
    parser.add_argument('--ratio', type=float, required=True, help='train share per class, e.g. 0.2')
    parser.add_argument('--val-ratio', type=float, default=0.0, help='val share per class (default 0: no val)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', help='where to write the lists (default: data_root)')
    args = parser.parse_args()
    per_class, skipped = scan_class_folders(args.data_root)
    empty = [c for c, files in per_class.items() if not files]
    if empty:
        raise SystemExit(f"class folder(s) {[osp.join(args.data_root, c) for c in empty]} hold no images. Fix: "
                         f're-extract them, or move them out of the image root.')
    if skipped:
        print_log(f'skipped {sum(skipped.values())} entries that are not images of a class folder: '
                  f'{dict(skipped)}', logger='current', level=logging.WARNING)
    splits = stratified_split(per_class, args.ratio, args.seed, args.val_ratio)
    paths = write_split_files(splits, args.out_dir or args.data_root, args.ratio)
    for split, path in paths.items():
        counts = Counter(line.split('/', 1)[0] for line in splits[split])
        print(f'{split}: {len(splits[split])} images of {len(counts)} classes '
              f'(per class {min(counts.values(), default=0)}..{max(counts.values(), default=0)}) -> {path}')


if __name__ == '__main__':
    main()
