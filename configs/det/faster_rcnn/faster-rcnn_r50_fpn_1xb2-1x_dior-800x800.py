# Faster R-CNN, ResNet-50 (ImageNet) + FPN baseline on DIOR (horizontal boxes, 20 categories, 800 x 800):
# mmdet's Faster R-CNN and 1x schedule (12 epochs, SGD lr 0.02 for 16 images; here 1 GPU x 2 images, so
# scale the lr or use --auto-scale-lr), trained on train + val, evaluated on test (VOC mAP50, 11-point).
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../../_base_/datasets/dior-hbb.py',
    'mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
model = dict(roi_head=dict(bbox_head=dict(num_classes=20)))
auto_scale_lr = dict(enable=False, base_batch_size=16)
