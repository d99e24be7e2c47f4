"""Change-detection metrics from a confusion matrix accumulated over the whole test set."""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmrsfm.registry import METRICS


def confusion_matrix(pred: torch.Tensor, gt: torch.Tensor, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    """(K, K) int64 counts, rows = ground truth, columns = prediction; ``ignore_index`` pixels skipped.

    Raises:
        ValueError: ``gt`` holds a value that is neither a class index nor ``ignore_index``.
    """
    valid = gt != ignore_index
    gt, pred = gt[valid].long(), pred[valid].long()
    bad = (gt < 0) | (gt >= num_classes)
    if bad.any():
        raise ValueError(f'ground truth holds values {sorted(gt[bad].unique().tolist())} that are neither classes '
                         f'0..{num_classes - 1} nor ignore_index={ignore_index}')
    return torch.bincount(gt * num_classes + pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (no such pixels: the score is reported as 0, never NaN)."""
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


def change_detection_scores(cm: np.ndarray, change_index: Optional[int] = 1) -> Dict[str, float]:
    """Scores from a (K, K) confusion matrix (rows gt, columns prediction).

    Always: ``OA`` (overall accuracy), ``kappa`` (Cohen's), ``mIoU``, ``mF1`` and per class
    ``IoU.<i>``, ``F1.<i>``, ``precision.<i>``, ``recall.<i>`` (keyed by class index). With
    ``change_index`` (binary CD), also ``precision``, ``recall``, ``F1`` and ``IoU`` of that class.
    Values are fractions in [0, 1].
    """
    cm = cm.astype(np.float64)
    tp, total = np.diag(cm), cm.sum()
    gt_count, pred_count = cm.sum(axis=1), cm.sum(axis=0)
    precision, recall = _ratio(tp, pred_count), _ratio(tp, gt_count)
    f1 = _ratio(2 * tp, gt_count + pred_count)
    iou = _ratio(tp, gt_count + pred_count - tp)
    oa = float(tp.sum() / total) if total else 0.0
    expected = float((gt_count * pred_count).sum() / total**2) if total else 0.0
    kappa = (oa - expected) / (1 - expected) if expected < 1 else 0.0
    scores = dict(OA=oa, kappa=kappa, mIoU=float(iou.mean()), mF1=float(f1.mean()))
    for i in range(cm.shape[0]):
        scores.update({f'IoU.{i}': iou[i], f'F1.{i}': f1[i], f'precision.{i}': precision[i], f'recall.{i}': recall[i]})
    if change_index is not None:
        c = change_index
        scores.update(precision=precision[c], recall=recall[c], F1=f1[c], IoU=iou[c])
    return {k: float(v) for k, v in scores.items()}


@METRICS.register_module()
class ChangeDetectionMetric(BaseMetric):
    """Precision, recall, F1 and IoU of the change class, overall accuracy and kappa (binary CD), or
    per-class IoU/F1 with their means (semantic CD, > 2 classes).

    Each sample contributes its (K, K) confusion matrix to ``self.results``; mmengine gathers them
    from all ranks and :meth:`compute_metrics` sums them, so scores are over all pixels of the test
    set (not averages of per-image scores) and identical for any number of processes.

    Reported keys (prefix ``cd/``; fractions in [0, 1]): binary: ``precision``, ``recall``, ``F1``,
    ``IoU`` (change class), ``OA``, ``mIoU``, and ``kappa``; more classes: ``IoU.<class>``,
    ``F1.<class>``, ``mIoU``, ``mF1``, ``OA`` and ``kappa``.

    Args:
        ignore_index: Ground-truth value skipped. Defaults to 255.
        change_index: Class index of "changed" in binary CD. Defaults to 1.
        with_kappa: Report Cohen's kappa. Defaults to True.
        collect_device: ``'cpu'`` or ``'gpu'`` for gathering across ranks. Defaults to ``'cpu'``.
        prefix: Key prefix. Defaults to ``'cd'``.
    """
    default_prefix = 'cd'

    def __init__(self, ignore_index: int = 255, change_index: int = 1, with_kappa: bool = True,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ignore_index, self.change_index, self.with_kappa = ignore_index, change_index, with_kappa

    @property
    def class_names(self) -> Sequence[str]:
        if not self.dataset_meta or 'classes' not in self.dataset_meta:
            raise ValueError('ChangeDetectionMetric needs dataset_meta["classes"] (set by the Runner from the '
                             'dataset metainfo)')
        return self.dataset_meta['classes']

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        num_classes = len(self.class_names)
        for sample in data_samples:
            pred = sample['pred_sem_seg']['data'].squeeze(0)  # (H, W)
            gt = sample['gt_sem_seg']['data'].squeeze(0).to(pred.device)
            if gt.shape != pred.shape:
                raise ValueError(f"prediction {tuple(pred.shape)} and label {tuple(gt.shape)} differ in size for "
                                 f"{sample.get('img_path')}")
            try:
                cm = confusion_matrix(pred, gt, num_classes, self.ignore_index)
            except ValueError as e:  # add which label file, then re-raise
                raise ValueError(f"label '{sample.get('seg_map_path')}': {e}. Fix: map label values to class "
                                 f'indices (the dataset\'s label_map / LABEL_FILE_VALUES).') from e
            self.results.append(cm.cpu().numpy())

    def compute_metrics(self, results: list) -> Dict[str, float]:
        names = list(self.class_names)
        binary = len(names) == 2
        scores = change_detection_scores(np.sum(results, axis=0), self.change_index if binary else None)
        self._log_table(scores, names)
        if binary:
            keys = ['precision', 'recall', 'F1', 'IoU', 'OA', 'mIoU']
            out = {k: scores[k] for k in keys}
        else:
            # spaces would split the 'k=v' line of tools/test.py
            out = {f'{m}.{n.replace(" ", "_")}': scores[f'{m}.{i}'] for i, n in enumerate(names) for m in ('IoU', 'F1')}
            out.update({k: scores[k] for k in ('mIoU', 'mF1', 'OA')})
        if self.with_kappa:
            out['kappa'] = scores['kappa']
        return out

    @staticmethod
    def _log_table(scores: Dict[str, float], names: Sequence[str]) -> None:
        width = max(len(n) for n in names) + 2
        lines = [f'{"class":<{width}}{"IoU":>8}{"F1":>8}{"prec.":>8}{"recall":>8}']
        for i, n in enumerate(names):
            lines.append(f'{n:<{width}}' + ''.join(f'{scores[f"{m}.{i}"]:>8.4f}'
                                                   for m in ('IoU', 'F1', 'precision', 'recall')))
        print_log('per-class change-detection scores:\n' + '\n'.join(lines), logger='current')
