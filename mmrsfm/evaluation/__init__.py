"""Metrics registered in :data:`mmrsfm.registry.METRICS`."""
from importlib.util import find_spec

from .change_detection_metric import ChangeDetectionMetric, change_detection_scores, confusion_matrix

__all__ = ['ChangeDetectionMetric', 'change_detection_scores', 'confusion_matrix']

# DOTA merging needs mmrotate (rotated NMS, eval_rbbox_map), an optional dependency of mmrsfm.
if find_spec('mmrotate') is not None:
    from .dota_merge_metric import DOTAMergeMetric
    from .dota_task1 import evaluate_task1, merge_patch_predictions, read_task1, write_task1
    __all__ += ['DOTAMergeMetric', 'evaluate_task1', 'merge_patch_predictions', 'read_task1', 'write_task1']
