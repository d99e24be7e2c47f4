"""NWPU VHR-10: official box annotations -> COCO boxes, and the instance-mask json -> train/val splits.

    python tools/dataset_converters/nwpu_vhr10.py "data/nwpu-vhr10" --boxes              # ground truth/*.txt
    python tools/dataset_converters/nwpu_vhr10.py "data/nwpu-vhr10" --instances annotations.json

SRC is the release folder "NWPU VHR-10 dataset" (positive image set/, negative image set/,
ground truth/). Both outputs use the same seeded split (--val-ratio, --seed). Details:
mmrsfm/datasets/converters/nwpu_vhr10.py.
"""
import argparse
import os.path as osp

from mmrsfm.datasets.converters.nwpu_vhr10 import convert_nwpu_boxes, split_nwpu_instances


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='the "NWPU VHR-10 dataset" folder')
    parser.add_argument('--boxes', action='store_true', help='convert ground truth/*.txt (boxes only)')
    parser.add_argument('--instances', help='instance-mask COCO json (relative to SRC or absolute) to split')
    parser.add_argument('--out', help='output folder (default: SRC/annotations)')
    parser.add_argument('--val-ratio', type=float, default=0.3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--no-negatives', action='store_true', help='leave the negative image set out (--boxes)')
    args = parser.parse_args()
    if not (args.boxes or args.instances):
        parser.error('give --boxes and/or --instances ANN_FILE')
    out = args.out or osp.join(args.src, 'annotations')
    written = {}
    if args.boxes:
        written.update({f'bbox_{k}': v for k, v in convert_nwpu_boxes(
            args.src, out, args.val_ratio, args.seed, not args.no_negatives).items()})
    if args.instances:
        ann = args.instances if osp.isabs(args.instances) else osp.join(args.src, args.instances)
        written.update({f'instances_{k}': v for k, v in split_nwpu_instances(ann, out, args.val_ratio,
                                                                             args.seed).items()})
    print('wrote ' + ', '.join(written.values()))


if __name__ == '__main__':
    main()
