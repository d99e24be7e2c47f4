"""Multi-label scene classification scores as the BigEarthNet / SpectralGPT literature computes them.

* **mAP (micro, macro)**: average precision ``AP = sum_k (R_k - R_{k-1}) P_k`` over the *distinct*
  score thresholds (tied scores form one step), the definition of scikit-learn's
  ``average_precision_score`` and torchmetrics' ``multilabel_average_precision``, which SpectralGPT's
  BigEarthNet evaluation calls (``engine_finetune_BE.py``, ``average='micro'``). Micro: one curve over
  every (image, class) pair; macro: the mean of the per-class APs. A class without a positive in the
  evaluated set has AP 0 and stays in the macro mean, as in torchmetrics >= 1.x and scikit-learn (whose
  ``average_precision_score`` the official BigEarthNet code calls); how many such classes there were is logged.
  mmpretrain's ``AveragePrecision`` has no micro mode and ranks tied scores in ``argsort`` order, so its
  values can differ when scores tie.
* **F1 (micro, macro)** of the predictions scoring strictly above a threshold (0.5 on sigmoid scores), a class without predictions or
  positives scoring 0 in the macro mean (scikit-learn's ``f1_score`` default ``zero_division`` behaviour).

``batch_averaged=True`` reproduces the number SpectralGPT's script prints instead: micro-AP computed per
evaluation batch and averaged weighted by batch size. It depends on the batch size and is not the
dataset-level micro-AP; use it only to compare with numbers produced that way.
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmrsfm.registry import METRICS


def average_precision(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """AP of one binary ranking over distinct thresholds; 0 when ``labels`` has no positive (recall is
    undefined; torchmetrics and scikit-learn then return 0 as well).

    Args:
        scores: (N, ) scores, higher = more likely positive.
        labels: (N, ) 0/1 targets.
    """
    scores, labels = scores.double().flatten(), labels.double().flatten()
    positives = labels.sum()
    if positives == 0:
        return 0.0
    order = torch.argsort(scores, descending=True, stable=True)
    scores, labels = scores[order], labels[order]
    tps = torch.cumsum(labels, 0)
    # The last index of each run of equal scores: one precision/recall point per distinct threshold.
    last = torch.ones_like(scores, dtype=torch.bool)
    last[:-1] = scores[1:] != scores[:-1]
    tps = tps[last]
    ranks = torch.nonzero(last).flatten().double() + 1
    precision, recall = tps / ranks, tps / positives
    recall_prev = torch.cat([recall.new_zeros(1), recall[:-1]])
    return float(((recall - recall_prev) * precision).sum())


def multilabel_scores(scores: torch.Tensor, targets: torch.Tensor, thr: float = 0.5) -> Dict[str, float]:
    """mAP and F1, micro and macro, in percent, of (N, C) ``scores`` against (N, C) 0/1 ``targets``.

    Also returns ``num_classes_without_positives`` (each with AP 0 in the macro mean).
    """
    if scores.shape != targets.shape or scores.dim() != 2:
        raise ValueError(f'scores {tuple(scores.shape)} and targets {tuple(targets.shape)} must both be (N, C)')
    per_class = torch.tensor([average_precision(scores[:, c], targets[:, c]) for c in range(scores.shape[1])])
    without_positives = int((targets.sum(0) == 0).sum())
    pred = scores > thr  # strictly above, as torchmetrics' multilabel_f1_score
    gt = targets.bool()
    tp = (pred & gt).sum(0).double()
    fp = (pred & ~gt).sum(0).double()
    fn = (~pred & gt).sum(0).double()
    denom = 2 * tp + fp + fn
    f1_class = torch.where(denom > 0, 2 * tp / denom.clamp(min=1), torch.zeros_like(tp))
    micro_denom = float(denom.sum())
    return {
        'mAP_micro': 100 * average_precision(scores, targets),
        'mAP_macro': 100 * float(per_class.mean()),
        'F1_micro': 100 * (2 * float(tp.sum()) / micro_denom if micro_denom else 0.0),
        'F1_macro': 100 * float(f1_class.mean()),
        'num_classes_without_positives': without_positives,
    }


def _onehot(sample: dict, num_classes: int) -> torch.Tensor:
    """The 0/1 target vector of an mmpretrain data sample (``gt_score`` if present, else ``gt_label``)."""
    if 'gt_score' in sample:
        return (torch.as_tensor(sample['gt_score']) > 0).float()
    target = torch.zeros(num_classes)
    target[torch.as_tensor(sample['gt_label']).long()] = 1
    return target


@METRICS.register_module()
class MultiLabelMAP(BaseMetric):
    """Micro/macro mAP and F1 of multi-label classifiers (mmpretrain data samples with ``pred_score``).

    Args:
        thr: Score threshold of the F1 scores. Defaults to 0.5.
        batch_averaged: Report ``mAP_micro`` as SpectralGPT's script does (batch-size-weighted mean of
            per-batch micro-AP) instead of over the whole set. Defaults to False.
        collect_device: Device for collecting results across ranks. Defaults to 'cpu'.
        prefix: Metric name prefix. Defaults to 'multi-label'.
    """
    default_prefix: Optional[str] = 'multi-label'

    def __init__(self, thr: float = 0.5, batch_averaged: bool = False, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.thr, self.batch_averaged = thr, batch_averaged

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        scores = torch.stack([torch.as_tensor(s['pred_score']).detach().cpu().float() for s in data_samples])
        targets = torch.stack([_onehot(s, scores.shape[1]) for s in data_samples])
        batch_ap = average_precision(scores, targets) if self.batch_averaged else None
        for i in range(len(data_samples)):
            # The batch AP rides on the batch's first sample (weight = batch size) so that results
            # gathered across ranks still carry it.
            self.results.append(dict(score=scores[i], target=targets[i],
                                     batch_ap=(batch_ap, len(data_samples)) if i == 0 else None))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        scores = torch.stack([r['score'] for r in results])
        targets = torch.stack([r['target'] for r in results])
        out = multilabel_scores(scores, targets, self.thr)
        missing = out.pop('num_classes_without_positives')
        if missing:
            print_log(f'MultiLabelMAP: {missing} of {scores.shape[1]} classes have no positive among the '
                      f'{len(results)} evaluated images; their AP counts as 0 in the macro mAP', logger='current')
        if self.batch_averaged:
            batches = [r['batch_ap'] for r in results if r['batch_ap'] is not None]
            total = sum(n for _, n in batches)
            out['mAP_micro'] = 100 * sum(ap * n for ap, n in batches) / total
        return out
