"""Score a folder of DOTA Task1 files against full-image ``labelTxt`` files, exactly as the official devkit.

    python tools/analysis_tools/eval_dota_task1.py work_dirs/Task1 data/DOTA2_0/val/labelTxt
    python tools/analysis_tools/eval_dota_task1.py work_dirs/Task1 data/DOTA2_0/val/labelTxt --eval-mode area

The devkit's ``dota_evaluation_task1.py`` protocol (CAPTAIN-WHU/DOTA_devkit, the evaluation server's
scorer): polygon IoU of the label's own quadrilateral, IoU > 0.5, difficult labels ignored, VOC07
11-point AP; per-category APs equal the devkit's (tests/test_evaluation/test_dota_devkit_equivalence.py).
Details in ``mmrsfm/evaluation/dota_task1.py``. Prints the per-category table and one line
``dota-task1 mAP=... AP_{category}=...`` (categories with non-difficult labels).
"""
import argparse
from typing import List, Optional

from mmrsfm.datasets.dota_split import DOTA_V2_CLASSES
from mmrsfm.evaluation.dota_task1 import evaluate_task1


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('task1_dir', help='folder with Task1_{category}.txt')
    parser.add_argument('ann_dir', help='labelTxt folder of the evaluated image set')
    parser.add_argument('--classes', nargs='+', default=list(DOTA_V2_CLASSES),
                        help='categories (default: the 18 of DOTA v2.0, which include those of v1.0/v1.5)')
    parser.add_argument('--iou-thr', type=float, default=0.5)
    parser.add_argument('--eval-mode', choices=['11points', 'area'], default='11points')
    parser.add_argument('--nproc', type=int, default=4, help='unused (kept for old command lines)')
    args = parser.parse_args(argv)
    mean_ap, aps = evaluate_task1(args.task1_dir, args.ann_dir, args.classes, args.iou_thr, args.eval_mode,
                                  args.nproc)
    print(f'dota-task1 mAP={mean_ap:.4f} ' + ' '.join(f'AP_{c}={ap:.4f}' for c, ap in aps.items()))


if __name__ == '__main__':
    main()
