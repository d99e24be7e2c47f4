"""Split DOTA's large images into the patch layout mmrotate's ``DOTADataset`` reads.

    # single scale, 1024 px patches, 200 px overlap (train and val together, as mmrotate's configs use)
    python tools/dataset_converters/dota_split.py --img-dirs data/DOTA2_0/train/images data/DOTA2_0/val/images \\
        --ann-dirs data/DOTA2_0/train/labelTxt data/DOTA2_0/val/labelTxt --out-dir data/split_ss_dota2_0/trainval
    # multi scale, and the unlabelled test split (every patch kept)
    python tools/dataset_converters/dota_split.py ... --gap 500 --rates 0.5 1.0 1.5 \\
        --out-dir data/split_ms_dota2_0/trainval
    python tools/dataset_converters/dota_split.py --img-dirs data/DOTA2_0/test/images --out-dir data/split_ss_dota2_0/test
    # FAIR1M-2.0, after tools/dataset_converters/fair1m.py has written its labelTxt folders
    python tools/dataset_converters/dota_split.py --classes fair1m-2.0 ...

Patches are named ``{image}__{rate}__{x}___{y}`` and ``mmrsfm.DOTAMergeMetric`` maps their predictions
back; conventions and their sources are in ``mmrsfm/datasets/dota_split.py``.
"""
import argparse
from typing import List, Optional

from mmrsfm.datasets.dota_split import DOTA_V2_CLASSES, DOTAFormatError, split_dota
from mmrsfm.datasets.fair1m import FAIR1M_DOTA_CLASSES

#: --classes: the category names a label file may use.
CLASS_SETS = {'dota-v2': DOTA_V2_CLASSES, 'fair1m-2.0': FAIR1M_DOTA_CLASSES}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--img-dirs', nargs='+', required=True, help='image folders, e.g. train/images val/images')
    parser.add_argument('--ann-dirs', nargs='+', help='labelTxt folder per image folder (omit for the test split)')
    parser.add_argument('--out-dir', required=True, help='writes OUT/images, OUT/annfiles and OUT/meta.json')
    parser.add_argument('--patch-size', type=int, default=1024)
    parser.add_argument('--gap', type=int, default=200, help='overlap of neighbouring patches in pixels')
    parser.add_argument('--rates', type=float, nargs='+', default=[1.0], help='image scales, e.g. 0.5 1.0 1.5')
    parser.add_argument('--iof-thr', type=float, default=0.7, help='minimum visible fraction of a kept object')
    parser.add_argument('--trunc-difficult', type=int, default=2,
                        help='difficulty written for truncated objects (-1: keep their own)')
    parser.add_argument('--save-empty', action='store_true', help='also write patches without objects')
    parser.add_argument('--fill', type=int, nargs='+', default=[0],
                        help='padding value, one or one per channel in BGR order (mmrotate uses 104 116 124)')
    parser.add_argument('--classes', choices=sorted(CLASS_SETS), default='dota-v2',
                        help='categories of the labels: DOTA v2.0, or FAIR1M-2.0 converted by fair1m.py')
    parser.add_argument('--skip-unknown', action='store_true', help='drop objects of unknown categories (counted)')
    parser.add_argument('--allow-missing-labels', action='store_true',
                        help='split images without a label file as having no objects (counted)')
    parser.add_argument('--img-ext', default='.png')
    parser.add_argument('--nproc', type=int, default=1)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.ann_dirs is not None and len(args.ann_dirs) != len(args.img_dirs):
        raise SystemExit(f'--ann-dirs needs one folder per --img-dirs folder ({len(args.img_dirs)})')
    try:
        counts = split_dota(args.img_dirs, args.out_dir, args.ann_dirs, patch_size=args.patch_size, gap=args.gap,
                            rates=args.rates, iof_thr=args.iof_thr,
                            trunc_difficult=None if args.trunc_difficult < 0 else args.trunc_difficult,
                            save_empty=args.save_empty, fill=args.fill[0] if len(args.fill) == 1 else args.fill,
                            classes=CLASS_SETS[args.classes], skip_unknown=args.skip_unknown,
                            allow_missing_labels=args.allow_missing_labels,
                            img_ext=args.img_ext, nproc=args.nproc)
    except DOTAFormatError as e:  # the labels of another dataset: say which --classes reads them
        other = [k for k, names in CLASS_SETS.items() if k != args.classes and any(f"'{n}'" in str(e) for n in names)]
        if other:
            raise SystemExit(f'{e}\nThese are {other[0]} categories: pass --classes {other[0]}.') from e
        raise
    print('dota-split ' + ' '.join(f'{k}={v}' for k, v in counts.items()))


if __name__ == '__main__':
    main()
