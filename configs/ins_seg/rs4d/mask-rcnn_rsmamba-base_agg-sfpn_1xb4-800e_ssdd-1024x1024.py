# RS4D "bbox" head (Mask R-CNN) on distilled RSMamba-base,
# SSDD (SAR ships, Official-SSDD polygons):
# official RS4D settings (official `QinzheYang/RS4D` configs): LSJ at 1024, AdamW 1e-4, 800 epochs, batch 4.
_base_ = [
    '../../_base_/models/rs4d_mask-rcnn_rsmamba-base_agg-sfpn.py', '../../_base_/datasets/ssdd.py',
    './_base_/lsj-1024_adamw-cosine.py'
]
model = dict(
    roi_head=dict(bbox_head=dict(num_classes=1), mask_head=dict(num_classes=1)))
train_dataloader = dict(batch_size=4, dataset=dict(pipeline={{_base_.lsj_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.lsj_test_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.lsj_test_pipeline}}))
max_epochs = 800
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-7, by_epoch=True, begin=0, end=max_epochs),
]
