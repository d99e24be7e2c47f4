"""FAIR1M-2.0: labelXml -> DOTA labelTxt (then the DOTA splitter), and merged results -> FAIR1M xml.

    # 1. labels of each labelled folder of the release (train/part1, train/part2, validation)
    python tools/dataset_converters/fair1m.py to-dota --xml-dir data/FAIR1M2_0/validation/labelXml \\
        --img-dir data/FAIR1M2_0/validation/images --out-dir data/FAIR1M2_0/validation/labelTxt
    # 2. patches, as for DOTA (the training folders together; val without labels: every patch is scored)
    python tools/dataset_converters/dota_split.py --classes fair1m-2.0 \\
        --img-dirs data/FAIR1M2_0/train/part1/images data/FAIR1M2_0/train/part2/images \\
        --ann-dirs data/FAIR1M2_0/train/part1/labelTxt data/FAIR1M2_0/train/part2/labelTxt \\
        --out-dir data/split_ss_fair1m2_0/train --fill 104 116 124
    python tools/dataset_converters/dota_split.py --img-dirs data/FAIR1M2_0/validation/images \\
        --out-dir data/split_ss_fair1m2_0/val --fill 104 116 124
    # 3. Task1 files of a merged test run (mmrsfm.DOTAMergeMetric) -> one xml per image, official names
    python tools/dataset_converters/fair1m.py to-xml --task1-dir work_dirs/.../Task1 --out-dir results/

Layout, class names and the name convention: ``mmrsfm/datasets/fair1m.py``.
"""
import argparse
from typing import List, Optional

from mmrsfm.datasets.fair1m import convert_fair1m, write_fair1m_results


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    to_dota = sub.add_parser('to-dota', help='labelXml folder -> DOTA labelTxt folder')
    to_dota.add_argument('--xml-dir', required=True, help='a labelXml folder of the release')
    to_dota.add_argument('--img-dir', required=True, help='the images folder of the same split')
    to_dota.add_argument('--out-dir', required=True, help='labelTxt folder to write (no .txt files in it yet)')
    to_dota.add_argument('--allow-missing-labels', action='store_true',
                         help='write images without xml as having no objects (counted)')
    to_xml = sub.add_parser('to-xml', help='Task1_{category}.txt files -> one FAIR1M xml per image')
    to_xml.add_argument('--task1-dir', required=True, help='folder of the Task1 files (outfile_prefix)')
    to_xml.add_argument('--out-dir', required=True)
    to_xml.add_argument('--image-ext', default='.tif', help='extension written in source/filename')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.command == 'to-dota':
        counts = convert_fair1m(args.xml_dir, args.img_dir, args.out_dir, args.allow_missing_labels)
        print('fair1m-to-dota ' + ' '.join(f'{k}={v}' for k, v in counts.items()))
    else:
        print(f'fair1m-to-xml images={write_fair1m_results(args.task1_dir, args.out_dir, args.image_ext)}')


if __name__ == '__main__':
    main()
