"""Measure mmcv's rotated IoU ops against the exact IoU (mmrsfm.evaluation.poly_iou) on near-coincident boxes.

    python tools/analysis_tools/check_rotated_iou.py            # CPU, and CUDA when there is a GPU
    python tools/analysis_tools/check_rotated_iou.py --n 3000 --seed 0

For each op and device, pairs of random boxes (centres in [0, 1000) px, sides 2-102 px, any angle)
whose centres differ by up to ``offset`` px: how many of ``n`` pairs the op gets wrong by more than
0.01, and its values there. Ops: ``box_iou_rotated`` (mmrotate's RBboxOverlaps2D / MaxIoUAssigner,
DOTAMetric, nms_rotated), ``diff_iou_rotated_2d`` (mmrotate's RotatedIoULoss; CUDA only in mmcv 2.1),
and, for the loss, the RotatedIoULoss values of the wrong pairs. Ends with timings of the assigner
IoU (mmrotate ``RBboxOverlaps2D`` vs ``mmrsfm.ExactRBboxOverlaps2D``). One line per measurement,
``check-rotated-iou key=value ...``.
"""
import argparse
import time

import numpy as np
import torch

from mmrsfm.evaluation.poly_iou import ExactRBboxOverlaps2D, rbox_iou

OFFSETS = (0., 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)


def pairs(n: int, offset: float, g: torch.Generator) -> tuple:
    b = torch.cat([torch.rand(n, 2, generator=g) * 1000, 2 + torch.rand(n, 2, generator=g) * 100,
                   (torch.rand(n, 1, generator=g) - 0.5) * np.pi], 1)
    b2 = b.clone()
    b2[:, :2] += offset * (torch.rand(n, 2, generator=g) * 2 - 1)
    return b, b2


def report(op: str, device: str, offset: float, values: torch.Tensor, exact: torch.Tensor, extra: str = '') -> None:
    wrong = (values.double().cpu() - exact).abs() > 0.01
    shown = sorted({round(v, 3) for v in values[wrong.to(values.device)].double().cpu().tolist()})[:5]
    print(f'check-rotated-iou op={op} device={device} offset={offset:g} wrong={int(wrong.sum())}/{len(exact)} '
          f'values={shown}{extra}', flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--n', type=int, default=3000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--assigner-sizes', nargs='+', default=['2000x30', '2000x200'],
                        help='priors x ground truths of the assigner-IoU timings')
    args = parser.parse_args()
    from mmcv.ops import box_iou_rotated
    devices = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    for device in devices:
        g = torch.Generator().manual_seed(args.seed)
        for offset in OFFSETS:
            b, b2 = pairs(args.n, offset, g)
            exact = rbox_iou(b, b2, aligned=True)  # the float32 boxes, computed in float64
            report('box_iou_rotated', device, offset, box_iou_rotated(b.to(device), b2.to(device), aligned=True), exact)
            if device == 'cuda':
                from mmcv.ops import diff_iou_rotated_2d
                from mmrotate.models.losses import RotatedIoULoss
                iou = diff_iou_rotated_2d(b[None].cuda(), b2[None].cuda())[0]
                loss = RotatedIoULoss(reduction='none')(b.cuda(), b2.cuda())
                wrong = (iou.double().cpu() - exact).abs() > 0.01
                report('diff_iou_rotated_2d', device, offset, iou, exact,
                       f' loss_at_wrong_max={loss[wrong.cuda()].max().item() if wrong.any() else 0:.3f}'
                       f' loss_max={loss.max().item():.4f}')
    torch.set_num_threads(1)
    from mmrotate.models.task_modules.assigners import RBboxOverlaps2D
    for device in devices:
        for n, m in (tuple(int(v) for v in size.split('x')) for size in args.assigner_sizes):
            g = torch.Generator().manual_seed(args.seed)
            gt = torch.cat([torch.rand(m, 2, generator=g) * 1000, 5 + torch.rand(m, 2, generator=g) * 80,
                            (torch.rand(m, 1, generator=g) - .5) * np.pi], 1).to(device)
            pr = (gt[torch.randint(0, m, (n, ), generator=g).to(device)]
                  + (torch.randn(n, 5, generator=g) * torch.tensor([10, 10, 5, 5, 0.2])).to(device))
            times = {}
            for name, calc in (('mmcv', RBboxOverlaps2D()), ('exact', ExactRBboxOverlaps2D())):
                calc(pr, gt)
                if device == 'cuda':
                    torch.cuda.synchronize()
                t = time.perf_counter()
                for _ in range(3):
                    calc(pr, gt)
                if device == 'cuda':
                    torch.cuda.synchronize()
                times[name] = (time.perf_counter() - t) / 3 * 1000
            print(f'check-rotated-iou assigner_iou device={device} priors={n} gts={m} '
                  f'mmcv_ms={times["mmcv"]:.1f} exact_ms={times["exact"]:.1f}', flush=True)


if __name__ == '__main__':
    main()
