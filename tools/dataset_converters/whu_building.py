"""Convert the WHU building aerial masks to COCO instance annotations.

    python tools/dataset_converters/whu_building.py "data/whu-building"    # -> data/whu-building/annotations/

SRC is the release folder "3. The cropped image tiles and raster labels" (holding
{train,val,test}/{image,label}). Instance rules (connectivity, min area, holes):
mmrsfm/datasets/converters/whu_building.py.
"""
import argparse

from mmrsfm.datasets.converters.whu_building import convert_whu_building


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='release folder holding {train,val,test}/{image,label}')
    parser.add_argument('--out', help='folder for whu_building_{split}.json (default: SRC/annotations)')
    parser.add_argument('--splits', nargs='+', default=['train', 'val', 'test'])
    parser.add_argument('--min-area', type=int, default=10, help='drop components with fewer pixels')
    parser.add_argument('--connectivity', type=int, default=8, choices=[4, 8])
    parser.add_argument('--foreground-value', type=int, default=255, help='label value of buildings')
    args = parser.parse_args()
    written = convert_whu_building(args.src, args.out, args.splits, args.min_area, args.connectivity,
                                   args.foreground_value)
    print('wrote ' + ', '.join(written.values()))


if __name__ == '__main__':
    main()
