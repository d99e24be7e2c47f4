# Mask R-CNN, ResNet-50 (ImageNet) + FPN baseline on WHU building (aerial, instances from the raster masks):
# mmdet's Mask R-CNN, 8 GPUs x 2 images, 2x schedule (24 epochs; not tuned for this dataset).
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py', '../../_base_/datasets/whu-building.py',
    'mmdet::_base_/schedules/schedule_2x.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
model = dict(roi_head=dict(bbox_head=dict(num_classes=1), mask_head=dict(num_classes=1)))
