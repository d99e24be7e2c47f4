# Mask R-CNN + FPN on RS-vHeat-B (pretrained), WHU building (aerial, instances from the raster masks):
# as the ResNet-50 baseline, with AdamW + layer-wise lr decay (mmrsfm.LayerDecayOptimWrapperConstructor).
_base_ = [
    '../../_base_/models/mask-rcnn_rs-vheat-base_fpn.py', '../../_base_/datasets/whu-building.py',
    '../../_base_/schedules/adamw-layer-decay_2x.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
model = dict(roi_head=dict(bbox_head=dict(num_classes=1), mask_head=dict(num_classes=1)))
