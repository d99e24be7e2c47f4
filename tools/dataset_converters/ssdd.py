"""Check an Official-SSDD release before training on it (mmdet reads its coco_style files directly).

    python tools/dataset_converters/ssdd.py data/ssdd          # the extracted Official-SSDD-OPEN folder

Reports images/annotations per split and fails with the file and the fix on a missing image, an
unknown category or a missing field. Layout and split rule: mmrsfm/datasets/converters/ssdd.py.
"""
import argparse

from mmrsfm.datasets.converters.ssdd import check_ssdd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('root', help='extracted Official-SSDD-OPEN folder')
    parser.add_argument('--flavour', default='PSeg_SSDD', choices=['PSeg_SSDD', 'BBox_SSDD'],
                        help='annotation flavour (PSeg_SSDD has the instance masks)')
    parser.add_argument('--no-image-check', action='store_true', help='skip reading every image header')
    args = parser.parse_args()
    for split, stats in check_ssdd(args.root, args.flavour, not args.no_image_check).items():
        print(f'{split}: ' + ', '.join(f'{k}={v}' for k, v in stats.items()))


if __name__ == '__main__':
    main()
