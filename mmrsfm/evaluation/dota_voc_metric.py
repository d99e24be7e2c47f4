"""``mmrsfm.DOTAVOCMetric``: oriented-box mAP of a test run, scored as the official DOTA devkit scores."""
from collections import OrderedDict
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from mmrsfm.registry import METRICS
from .dota_task1 import voc_eval_polys
from .poly_iou import rbox_to_poly


def _corners(boxes) -> np.ndarray:
    """``RotatedBoxes``/``QuadriBoxes``/tensor/array of ``(N, 5)`` or ``(N, 8)`` -> ``(N, 8)`` float64 corners."""
    boxes = getattr(boxes, 'tensor', boxes)
    boxes = boxes.detach().cpu().double() if isinstance(boxes, torch.Tensor) else torch.as_tensor(
        np.asarray(boxes, np.float64))
    if boxes.numel() == 0:
        return np.zeros((0, 8))
    if boxes.shape[-1] == 5:
        return rbox_to_poly(boxes).numpy()
    if boxes.shape[-1] == 8:
        return boxes.reshape(-1, 8).numpy()
    raise ValueError(f'expected (N, 5) rotated boxes or (N, 8) quadrilaterals, got {tuple(boxes.shape)}')


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@METRICS.register_module()
class DOTAVOCMetric(BaseMetric):
    """mAP with the DOTA devkit's ``voc_eval`` protocol for datasets scored image by image (DIOR-R,
    HRSC2016-style sets, DOTA patches): a drop-in for mmrotate's ``DOTAMetric`` without merging.

    What differs from mmrotate's ``DOTAMetric``: the IoU is the exact polygon IoU of
    :mod:`mmrsfm.evaluation.poly_iou` (mmrotate: mmcv's ``box_iou_rotated``, which scores
    near-coincident boxes 0 or 0.33), a match needs IoU > the threshold (mmrotate: >=), and a
    detection on a difficult ("ignored") label is neither a true nor a false positive, also in an
    image whose labels are all difficult (mmrotate counts it false there). Scoring is
    :func:`~mmrsfm.evaluation.dota_task1.voc_eval_polys`, checked against the devkit.

    Ground truth is taken as the pipeline packs it: quadrilaterals (``box_type='qbox'`` without a
    ``ConvertBoxType`` to ``rbox``) are scored as labelled, as the devkit does; rotated boxes by
    their corners.

    Swapping only ``type`` of an mmrotate ``DOTAMetric`` evaluator works: its ``metric='mAP'`` and
    ``predict_box_type`` are accepted (the box type is read from the boxes' shape).

    Args:
        iou_thrs: IoU threshold(s); reports ``AP{iou*100}`` each and their mean ``mAP``.
        eval_mode: ``'11points'`` (VOC07, the devkit's default) or ``'area'``.
        metric: ``'mAP'`` (the only one, as mmrotate's).
        predict_box_type: ``'rbox'`` or ``'qbox'``; unused.
        merge_patches: Must be False: merging is :class:`~mmrsfm.evaluation.DOTAMergeMetric`'s job.
        format_only: Must be False (for submission files, use ``DOTAMergeMetric``).
        collect_device: Device for collecting results across ranks.
        prefix: Metric-name prefix. Defaults to ``'dota'`` (the keys of mmrotate's ``DOTAMetric``).
    """
    default_prefix: Optional[str] = 'dota'

    def __init__(self, iou_thrs: Union[float, Sequence[float]] = 0.5, eval_mode: str = '11points',
                 metric: Union[str, Sequence[str]] = 'mAP', predict_box_type: str = 'rbox',
                 merge_patches: bool = False, format_only: bool = False, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if eval_mode not in ('11points', 'area'):
            raise ValueError(f"eval_mode must be '11points' or 'area', got {eval_mode!r}")
        if (metric if isinstance(metric, str) else list(metric)) not in ('mAP', ['mAP']):
            raise ValueError(f"metric must be 'mAP', got {metric!r}")
        if predict_box_type not in ('rbox', 'qbox'):
            raise ValueError(f"predict_box_type must be 'rbox' or 'qbox', got {predict_box_type!r}")
        if merge_patches or format_only:
            raise ValueError('DOTAVOCMetric scores image by image; to merge patches or write Task1 files use '
                             "type='mmrsfm.DOTAMergeMetric'")
        self.iou_thrs = [iou_thrs] if isinstance(iou_thrs, (int, float)) else list(iou_thrs)
        self.eval_mode = eval_mode

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep each image's predictions and its labels (difficult ones from ``ignored_instances``)."""
        for sample in data_samples:
            pred, gt = sample['pred_instances'], sample.get('gt_instances', {})
            ignored = sample.get('ignored_instances', {})
            self.results.append(dict(
                img_id=str(sample['img_id']),
                dets=(_corners(pred['bboxes']), _numpy(pred['scores']).astype(np.float64), _numpy(pred['labels'])),
                gts=(_corners(gt['bboxes']) if 'bboxes' in gt else np.zeros((0, 8)),
                     _numpy(gt['labels']) if 'labels' in gt else np.zeros(0, np.int64)),
                ignored=(_corners(ignored['bboxes']) if 'bboxes' in ignored else np.zeros((0, 8)),
                         _numpy(ignored['labels']) if 'labels' in ignored else np.zeros(0, np.int64))))

    def compute_metrics(self, results: list) -> dict:
        logger = MMLogger.get_current_instance()
        classes = self.dataset_meta['classes']
        metrics = OrderedDict()
        for iou in self.iou_thrs:
            aps = {}
            for c, cls in enumerate(classes):
                gts, det_images, det_scores, det_polys = {}, [], [], []
                for r in results:
                    (gp, gl), (ip, il) = r['gts'], r['ignored']
                    polys = np.concatenate([gp[gl == c], ip[il == c]])
                    hard = np.r_[np.zeros((gl == c).sum(), bool), np.ones((il == c).sum(), bool)]
                    old = gts.get(r['img_id'])  # the same image twice (e.g. gathered from ranks): once
                    gts[r['img_id']] = (polys, hard) if old is None else old
                    if old is not None:
                        continue
                    dp, ds, dl = r['dets']
                    det_images += [r['img_id']] * int((dl == c).sum())
                    det_scores.append(ds[dl == c])
                    det_polys.append(dp[dl == c])
                result = voc_eval_polys(det_images, np.concatenate(det_scores or [np.zeros(0)]),
                                        np.concatenate(det_polys or [np.zeros((0, 8))]), gts, iou,
                                        self.eval_mode == '11points')
                if result['num_gts']:
                    aps[cls] = result['ap']
            mean_ap = float(np.mean(list(aps.values()))) if aps else 0.
            print_log(f'DOTA VOC ({self.eval_mode}), IoU > {iou:g}: mAP {mean_ap:.4f} over {len(aps)} categories; '
                      + ' '.join(f'{k}={v:.4f}' for k, v in aps.items()), logger=logger)
            metrics[f'AP{int(round(iou * 100)):02d}'] = mean_ap
        metrics['mAP'] = float(np.mean(list(metrics.values())))
        metrics.move_to_end('mAP', last=False)
        return metrics
