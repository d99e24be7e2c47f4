"""Crop the iSAID release into mmseg's ``iSAIDDataset`` layout (896 px patches, 384 px overlap).

    python tools/dataset_converters/isaid.py /path/to/iSAID data/iSAID

SRC holds train/, val/ (and test/) as downloaded: images/part*.zip and Semantic_masks/images.zip (the
zips are read in place). Why this and not mmseg's own converter: mmrsfm/datasets/converters/isaid.py.
"""
import argparse

from mmrsfm.datasets.converters.isaid import convert_isaid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='iSAID release root (train/, val/, test/)')
    parser.add_argument('out', help='output root (img_dir/, ann_dir/)')
    parser.add_argument('--crop-size', type=int, default=896, help='patch side in pixels')
    parser.add_argument('--overlap', type=int, default=384, help='overlap of neighbouring patches')
    parser.add_argument('--ignore-unknown-colours', action='store_true',
                        help='map label colours outside the iSAID palette to ignore (255) instead of failing')
    args = parser.parse_args()
    counts = convert_isaid(args.src, args.out, args.crop_size, args.overlap, args.ignore_unknown_colours)
    print('wrote ' + ', '.join(f'{k}: {v}' for k, v in counts.items()))


if __name__ == '__main__':
    main()
