# Faster R-CNN, ResNet-50 + FPN baseline on SAR-AIRcraft-1.0 (7 aircraft types), one-band input: the SAR
# images are loaded grey and the ResNet stem takes 1 channel (its ImageNet conv1 does not fit and is left
# at its random initialisation; the rest of the network loads). mmdet's 1x schedule, train + val -> test.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../../_base_/datasets/sar-aircraft.py',
    'mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
# One-band mean/std: the luminance (0.299 R + 0.587 G + 0.114 B) of mmdet's ImageNet values, a neutral default
# for grey 8-bit images; replace them with the training split's statistics where known.
model = dict(
    data_preprocessor=dict(mean=[117.04], std=[57.38], bgr_to_rgb=False),
    backbone=dict(in_channels=1),
    roi_head=dict(bbox_head=dict(num_classes=7)))
auto_scale_lr = dict(enable=False, base_batch_size=16)
