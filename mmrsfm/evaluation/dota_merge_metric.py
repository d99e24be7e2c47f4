"""``mmrsfm.DOTAMergeMetric``: full-image DOTA results from a test run on split patches."""
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Optional, Sequence, Union

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmrsfm.registry import METRICS
from .dota_task1 import evaluate_task1, merge_patch_predictions, write_task1


@METRICS.register_module()
class DOTAMergeMetric(BaseMetric):
    """Merge patch predictions into full images, write the Task1 submission, and score it.

    Unlike mmrotate's ``DOTAMetric(merge_patches=True)``, which only shifts boxes by the window corner,
    this undoes the resize of multi-scale patches (``{image}__{rate}__{x}___{y}``, see
    :mod:`mmrsfm.datasets.dota_split`), and scores the merged result when full-image labels are given:
    the mAP is computed from the written ``Task1_*.txt`` files themselves
    (:func:`~mmrsfm.evaluation.dota_task1.evaluate_task1`, the official devkit's scoring, checked
    against it), so what is reported is what would be submitted. The merging NMS uses the exact
    polygon IoU (mmcv's ``nms_rotated`` keeps some near-coincident duplicates: it scores them IoU 0).

    Args:
        outfile_prefix: Folder for ``Task1_{category}.txt`` and ``{basename}.zip``; None writes to a
            temporary folder (removed afterwards: only useful with ``ann_dir``).
        ann_dir: Full-image ``labelTxt`` folder of the tested split (e.g. ``data/DOTA/val/labelTxt``);
            None only writes the submission (the test split has no labels).
        iou_thrs: Polygon IoU(s) a match must exceed; reports ``AP{iou*100}`` each and their mean ``mAP``.
        eval_mode: ``'11points'`` (official, VOC07) or ``'area'``.
        nms_iou_thr: IoU of the per-category rotated NMS across overlapping patches and scales.
        rescaled_patches: False for patches of mmrotate's ``img_split.py`` (not resized; the name
            carries the window size).
        nproc: Unused (the scoring is vectorised); kept for existing configs.
        collect_device: Device for collecting results across ranks.
        prefix: Metric-name prefix. Defaults to ``'dota_full'``.
    """
    default_prefix: Optional[str] = 'dota_full'

    def __init__(self,
                 outfile_prefix: Optional[str] = None,
                 ann_dir: Optional[str] = None,
                 iou_thrs: Union[float, Sequence[float]] = 0.5,
                 eval_mode: str = '11points',
                 nms_iou_thr: float = 0.1,
                 rescaled_patches: bool = True,
                 nproc: int = 4,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if outfile_prefix is None and ann_dir is None:
            raise ValueError('DOTAMergeMetric needs outfile_prefix (where to write the submission), '
                             'ann_dir (full-image labels to score against), or both')
        self.outfile_prefix, self.ann_dir = outfile_prefix, ann_dir
        self.iou_thrs = [iou_thrs] if isinstance(iou_thrs, float) else list(iou_thrs)
        self.eval_mode, self.nms_iou_thr = eval_mode, nms_iou_thr
        self.rescaled_patches, self.nproc = rescaled_patches, nproc

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep each patch's name and predictions (patch pixels, after the pipeline's rescale)."""
        for sample in data_samples:
            pred = sample['pred_instances']
            self.results.append((sample['img_id'], pred['bboxes'].cpu().numpy(), pred['scores'].cpu().numpy(),
                                 pred['labels'].cpu().numpy()))

    def compute_metrics(self, results: list) -> dict:
        """Merge, write ``Task1_*.txt`` + zip, and score them when ``ann_dir`` is set."""
        logger = MMLogger.get_current_instance()
        classes = self.dataset_meta['classes']
        merged = merge_patch_predictions(results, len(classes), self.nms_iou_thr, self.rescaled_patches)
        with tempfile.TemporaryDirectory() as tmp:
            out_dir = self.outfile_prefix or osp.join(tmp, 'Task1')
            zip_path = write_task1(merged, classes, out_dir)
            logger.info(f'DOTA Task1 files of {len(merged)} full images ({len(results)} patches): {zip_path}')
            metrics = OrderedDict()
            if self.ann_dir is None:
                return metrics
            for iou in self.iou_thrs:
                mean_ap, _ = evaluate_task1(out_dir, self.ann_dir, classes, iou, self.eval_mode, self.nproc, logger)
                metrics[f'AP{int(round(iou * 100)):02d}'] = mean_ap
        metrics['mAP'] = sum(metrics.values()) / len(metrics)
        metrics.move_to_end('mAP', last=False)
        return metrics
