"""Metrics registered in :data:`mmrsfm.registry.METRICS`."""
from importlib.util import find_spec

from .change_detection_metric import ChangeDetectionMetric, change_detection_scores, confusion_matrix
from .multilabel_map import MultiLabelMAP, average_precision, multilabel_scores
from .poly_iou import ExactRBboxOverlaps2D, poly_iou, poly_iou_aligned, poly_nms, rbox_iou, rbox_to_poly

__all__ = ['ChangeDetectionMetric', 'change_detection_scores', 'confusion_matrix', 'ExactRBboxOverlaps2D', 'MultiLabelMAP',
           'average_precision', 'multilabel_scores', 'poly_iou',
           'poly_iou_aligned', 'poly_nms', 'rbox_iou', 'rbox_to_poly']

# The DOTA metrics serve mmrotate's test loops (rotated boxes in the data samples), an optional
# dependency of mmrsfm; their maths (poly_iou) needs only torch.
if find_spec('mmrotate') is not None:
    from .dota_merge_metric import DOTAMergeMetric
    from .dota_task1 import evaluate_task1, merge_patch_predictions, read_task1, voc_eval_polys, write_task1
    from .dota_voc_metric import DOTAVOCMetric
    __all__ += ['DOTAMergeMetric', 'DOTAVOCMetric', 'evaluate_task1', 'merge_patch_predictions', 'read_task1',
                'voc_eval_polys', 'write_task1']
