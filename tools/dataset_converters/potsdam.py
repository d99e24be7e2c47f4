"""Convert the official ISPRS Potsdam release to mmseg's ``PotsdamDataset`` layout.

    python tools/dataset_converters/potsdam.py /path/to/potsdam_release data/potsdam
    python tools/dataset_converters/potsdam.py SRC OUT --crop-size 512 --stride 256 --full-labels

SRC holds the release zips (2_Ortho_RGB.zip, 5_Labels_all_noBoundary.zip, ...) and/or their extracted
folders. Formats, class codes, splits and the eroded/full choice: mmrsfm/datasets/converters/potsdam.py.
"""
import argparse

from mmrsfm.datasets.converters.potsdam import MODALITY_FOLDERS, convert_potsdam


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='folder with the official zips and/or extracted folders')
    parser.add_argument('out', help='output root (img_dir/, ann_dir/)')
    parser.add_argument('--modality', default='RGB', choices=sorted(MODALITY_FOLDERS), help='image bands')
    parser.add_argument('--full-labels', action='store_true',
                        help='use 5_Labels_all (every pixel labelled) instead of the eroded noBoundary labels')
    parser.add_argument('--crop-size', type=int, default=512, help='patch side in pixels')
    parser.add_argument('--stride', type=int, help='step between patches (default: the crop size)')
    parser.add_argument('--full-tiles', nargs='*', default=['val'],
                        help='splits also written uncropped to {img,ann}_dir/{split}_tiles (default: val; '
                             'give the flag alone for none)')
    parser.add_argument('--ignore-unknown-colours', action='store_true',
                        help='map label colours outside the palette to ignore (logged) instead of failing')
    args = parser.parse_args()
    counts = convert_potsdam(args.src, args.out, args.modality, not args.full_labels, args.crop_size, args.stride,
                             args.full_tiles, args.ignore_unknown_colours)
    print('wrote ' + ', '.join(f'{k}: {v}' for k, v in counts.items()))


if __name__ == '__main__':
    main()
