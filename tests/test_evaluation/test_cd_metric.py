"""ChangeDetectionMetric against hand-computed confusion-matrix scores."""
import numpy as np
import pytest
import torch

from mmrsfm.evaluation import ChangeDetectionMetric, change_detection_scores, confusion_matrix


def _sample(pred, gt, path='label.png'):
    return dict(pred_sem_seg=dict(data=torch.tensor(pred)[None]), gt_sem_seg=dict(data=torch.tensor(gt)[None]),
                seg_map_path=path)


def _metric(classes=('unchanged', 'changed'), **kwargs) -> ChangeDetectionMetric:
    metric = ChangeDetectionMetric(**kwargs)
    metric.dataset_meta = dict(classes=classes)
    return metric


def test_binary_scores_match_hand_computation_over_batches():
    # image 1: TP=2 FP=1 FN=1 TN=3 and one ignored pixel (predicted changed, must not count)
    pred1, gt1 = [[1, 1, 1, 0], [0, 0, 0, 1]], [[1, 1, 0, 1], [0, 0, 0, 255]]
    # image 2: TP=1 FP=0 FN=2 TN=1
    pred2, gt2 = [[1, 0], [0, 0]], [[1, 1], [1, 0]]
    metric = _metric()
    metric.process({}, [_sample(pred1, gt1)])
    metric.process({}, [_sample(pred2, gt2)])  # accumulated across batches
    scores = metric.evaluate(2)
    tp, fp, fn, tn = 3, 1, 3, 4
    n = tp + fp + fn + tn
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    oa = (tp + tn) / n
    pe = ((tp + fn) * (tp + fp) + (tn + fp) * (tn + fn)) / n**2
    expected = {
        'cd/precision': precision, 'cd/recall': recall, 'cd/F1': 2 * precision * recall / (precision + recall),
        'cd/IoU': tp / (tp + fp + fn), 'cd/OA': oa, 'cd/kappa': (oa - pe) / (1 - pe),
        'cd/mIoU': (tp / (tp + fp + fn) + tn / (tn + fp + fn)) / 2}
    assert set(scores) == set(expected)
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value), key


def test_confusion_matrix_rows_are_ground_truth():
    cm = confusion_matrix(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 0, 1, 255]), 3)
    np.testing.assert_array_equal(cm.numpy(), [[1, 1, 0], [0, 1, 0], [0, 0, 0]])


def test_semantic_change_per_class_scores():
    pred = [[0, 1, 2], [2, 2, 1]]
    gt = [[0, 1, 1], [2, 2, 0]]
    metric = _metric(classes=('no change', 'built-up', 'water'), with_kappa=False)
    metric.process({}, [_sample(pred, gt)])
    scores = metric.evaluate(1)
    # class 0: TP=1 FN=1 FP=0; class 1: TP=1 FN=1 FP=1; class 2: TP=2 FN=0 FP=1
    assert scores['cd/IoU.no_change'] == pytest.approx(1 / 2)
    assert scores['cd/IoU.built-up'] == pytest.approx(1 / 3) and scores['cd/F1.built-up'] == pytest.approx(1 / 2)
    assert scores['cd/IoU.water'] == pytest.approx(2 / 3) and scores['cd/F1.water'] == pytest.approx(4 / 5)
    assert scores['cd/mIoU'] == pytest.approx((1 / 2 + 1 / 3 + 2 / 3) / 3)
    assert scores['cd/OA'] == pytest.approx(4 / 6) and 'cd/kappa' not in scores and 'cd/F1' not in scores


def test_no_change_anywhere_scores_zero_not_nan():
    scores = change_detection_scores(np.array([[5, 0], [0, 0]]))
    assert scores['F1'] == scores['precision'] == scores['recall'] == 0.0 and scores['OA'] == 1.0


def test_label_values_outside_the_classes_are_named():
    metric = _metric()
    with pytest.raises(ValueError, match=r"label 'levir/label/x.png': ground truth holds values \[254\]"):
        metric.process({}, [_sample([[0, 1]], [[0, 254]], path='levir/label/x.png')])
