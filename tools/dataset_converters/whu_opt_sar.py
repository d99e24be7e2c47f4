"""Tile the WHU-OPT-SAR release into patches for mmrsfm.WHUOptSARDataset.

    python tools/dataset_converters/whu_opt_sar.py /path/to/WHU-OPT-SAR data/whu_opt_sar
    python tools/dataset_converters/whu_opt_sar.py SRC OUT --crop-size 512 --stride 384 --val-every 5

SRC holds the extracted release folders optical/, sar/ and lbl/ (one NAME.tif per tile in each). The
same windows are cut from the optical image, the SAR image and the label (georeferenced, label values
kept); every pair is checked for co-registration and label values first. Layout, split rule and
label values: mmrsfm/datasets/whu_opt_sar.py.
"""
import argparse

from mmrsfm.datasets.whu_opt_sar import convert_whu_opt_sar


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='release folder holding optical/, sar/ and lbl/')
    parser.add_argument('out', help='output root (train/, val/, val_tiles/)')
    parser.add_argument('--crop-size', type=int, default=512, help='patch side in pixels')
    parser.add_argument('--stride', type=int, help='step between patches (default: the crop size)')
    parser.add_argument('--val-every', type=int, default=5,
                        help='every N-th tile in name order is validation (default 5: 20 of the 100 tiles)')
    parser.add_argument('--no-full-tiles', action='store_true',
                        help='do not copy the whole validation tiles to val_tiles/ (for tools/test.py)')
    args = parser.parse_args()
    counts = convert_whu_opt_sar(args.src, args.out, args.crop_size, args.stride, args.val_every,
                                 not args.no_full_tiles)
    print('wrote ' + ', '.join(f'{k}: {v}' for k, v in counts.items()))


if __name__ == '__main__':
    main()
