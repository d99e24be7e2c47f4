"""Converters from official remote-sensing dataset releases to the layouts mmseg / mmdet read.

Each module is a set of pure functions; ``tools/dataset_converters/<dataset>.py`` are thin command
lines around them.
"""
from .coco_masks import mask_to_instances, mask_to_segmentation, segmentation_to_mask
from .isaid import convert_isaid
from .nwpu_vhr10 import NWPU_VHR10_CLASSES, convert_nwpu_boxes, parse_nwpu_ground_truth, split_nwpu_instances
from .potsdam import (POTSDAM_CLASSES, POTSDAM_PALETTE, POTSDAM_SPLITS, convert_potsdam, crop_windows,
                      potsdam_label_to_index)
from .ssdd import SSDD_CLASSES, check_ssdd, ssdd_split_of
from .whu_building import WHU_BUILDING_CLASSES, convert_whu_building

__all__ = [
    'mask_to_instances', 'mask_to_segmentation', 'segmentation_to_mask', 'NWPU_VHR10_CLASSES',
    'convert_nwpu_boxes', 'parse_nwpu_ground_truth', 'split_nwpu_instances', 'POTSDAM_CLASSES', 'POTSDAM_PALETTE',
    'POTSDAM_SPLITS', 'convert_potsdam', 'crop_windows', 'potsdam_label_to_index', 'SSDD_CLASSES', 'check_ssdd',
    'ssdd_split_of', 'WHU_BUILDING_CLASSES', 'convert_whu_building', 'convert_isaid'
]
