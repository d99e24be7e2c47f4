"""Multi-label scores equal the reference implementations the papers' code calls: torchmetrics'
``multilabel_average_precision`` (SpectralGPT ``engine_finetune_BE.py``) and F1 as scikit-learn's
``f1_score`` (which torchmetrics' ``multilabel_f1_score`` follows)."""
import pytest
import torch
from torchmetrics.functional.classification import multilabel_average_precision, multilabel_f1_score

from mmrsfm.evaluation import MultiLabelMAP, multilabel_scores


def _data(seed: int, n: int = 64, c: int = 7, ties: bool = False):
    g = torch.Generator().manual_seed(seed)
    targets = (torch.rand(n, c, generator=g) < 0.3).int()
    scores = torch.rand(n, c, generator=g) * 0.6 + 0.4 * targets  # informative but imperfect
    if ties:
        scores = (scores * 4).round() / 4  # few distinct values: tied scores everywhere
    targets[:, -1] = 0  # a class without positives (AP 0 in the macro mean for both)
    return scores, targets


@pytest.mark.parametrize('seed,ties', [(0, False), (1, True), (2, True)])
def test_map_and_f1_equal_torchmetrics(seed, ties):
    scores, targets = _data(seed, ties=ties)
    ours = multilabel_scores(scores, targets, thr=0.5)
    c = scores.shape[1]
    with pytest.warns(UserWarning):  # torchmetrics warns about the class without positives
        macro = multilabel_average_precision(scores, targets, num_labels=c, average='macro')
    assert ours['mAP_micro'] == pytest.approx(
        100 * multilabel_average_precision(scores, targets, num_labels=c, average='micro').item(), abs=1e-4)
    assert ours['mAP_macro'] == pytest.approx(100 * macro.item(), abs=1e-4)
    for avg in ('micro', 'macro'):
        ref = multilabel_f1_score(scores, targets, num_labels=c, threshold=0.5, average=avg).item()
        assert ours[f'F1_{avg}'] == pytest.approx(100 * ref, abs=1e-4), avg
    assert ours['num_classes_without_positives'] == 1


def _samples(scores, targets):
    return [dict(pred_score=s, gt_label=torch.nonzero(t).flatten()) for s, t in zip(scores, targets)]


def test_metric_over_batches_and_batch_averaged_mode():
    """Dataset-level micro-AP does not depend on batching; ``batch_averaged`` equals SpectralGPT's loop
    (torchmetrics micro-AP per batch, weighted by batch size)."""
    scores, targets = _data(3, n=50)
    batches = [(0, 16), (16, 32), (32, 48), (48, 50)]
    results = {}
    for mode in (False, True):
        metric = MultiLabelMAP(batch_averaged=mode)
        metric.dataset_meta = dict(classes=[str(i) for i in range(scores.shape[1])])
        for a, b in batches:
            metric.process(None, _samples(scores[a:b], targets[a:b]))
        results[mode] = metric.evaluate(len(scores))
    full = multilabel_scores(scores, targets)
    assert results[False]['multi-label/mAP_micro'] == pytest.approx(full['mAP_micro'])
    official = sum(multilabel_average_precision(scores[a:b], targets[a:b], num_labels=scores.shape[1],
                                                average='micro').item() * (b - a) for a, b in batches) / len(scores)
    assert results[True]['multi-label/mAP_micro'] == pytest.approx(100 * official, abs=1e-4)
    assert results[True]['multi-label/mAP_micro'] != pytest.approx(full['mAP_micro'], abs=1e-3)
    assert results[True]['multi-label/mAP_macro'] == results[False]['multi-label/mAP_macro']


def test_perfect_and_reversed_rankings():
    targets = torch.tensor([[1, 0], [0, 1], [1, 1], [0, 0]])
    assert multilabel_scores(targets.float(), targets)['mAP_macro'] == pytest.approx(100)
    worst = multilabel_scores(1 - targets.float(), targets)
    assert worst['mAP_micro'] < 60 and worst['F1_micro'] == 0
