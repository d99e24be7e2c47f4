# Oriented R-CNN (le90) with the 86M ViT (ViT-B/16, MAE on MillionAID) + simple feature pyramid on DIOR-R
# (20 categories, 800x800 images): mmrotate's DIOR-R data settings (train + val for training, test for
# evaluation), the rest as the DOTA v2.0 config of the same size (see its notes). 4 GPUs x 2 images.
_base_ = [
    '../../_base_/models/oriented-rcnn-le90_vit-86m_simple-fpn.py', 'mmrotate::_base_/datasets/dior.py',
    '../../_base_/schedules/adamw-layer-decay_1x.py', 'mmrotate::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)

model = dict(backbone=dict(img_size=800), roi_head=dict(bbox_head=dict(num_classes=20)))
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.7))  # by depth, as in the DOTA v2.0 configs
train_dataloader = dict(batch_size=2)
auto_scale_lr = dict(enable=False, base_batch_size=8)  # 4 GPUs x 2; `tools/train.py --auto-scale-lr` rescales

# Scored as the official DOTA devkit scores (exact polygon IoU, IoU > 0.5, VOC07 11-point AP); mmrotate's
# DOTAMetric uses mmcv's box_iou_rotated, which scores near-coincident boxes 0 (see README "Evaluation").
val_evaluator = dict(type='mmrsfm.DOTAVOCMetric')
test_evaluator = val_evaluator
