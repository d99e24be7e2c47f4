# Mask R-CNN + FPN on RS-vHeat-B (pretrained), NWPU VHR-10 (10 classes, instance-mask release):
# as the ResNet-50 baseline, with AdamW + layer-wise lr decay (mmrsfm.LayerDecayOptimWrapperConstructor).
_base_ = [
    '../../_base_/models/mask-rcnn_rs-vheat-base_fpn.py', '../../_base_/datasets/nwpu-vhr10.py',
    '../../_base_/schedules/adamw-layer-decay_2x.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
model = dict(
    backbone=dict(img_size=1024),  # design size of the FVE/SCE grids = the training scale
    roi_head=dict(bbox_head=dict(num_classes=10), mask_head=dict(num_classes=10)))
