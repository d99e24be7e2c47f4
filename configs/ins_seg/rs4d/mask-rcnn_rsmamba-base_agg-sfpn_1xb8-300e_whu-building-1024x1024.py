# RS4D "bbox" head (Mask R-CNN) on distilled RSMamba-base,
# WHU building (aerial, instances from raster masks):
# official RS4D settings (official `QinzheYang/RS4D` configs): LSJ at 1024, AdamW 1e-4, 300 epochs, batch 8.
_base_ = [
    '../../_base_/models/rs4d_mask-rcnn_rsmamba-base_agg-sfpn.py', '../../_base_/datasets/whu-building.py',
    './_base_/lsj-1024_adamw-cosine.py'
]
model = dict(
    roi_head=dict(bbox_head=dict(num_classes=1), mask_head=dict(num_classes=1)))
train_dataloader = dict(batch_size=8, dataset=dict(pipeline={{_base_.lsj_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.lsj_test_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.lsj_test_pipeline}}))
optim_wrapper = dict(optimizer=dict(lr=9.2224e-5))  # the official WHU bbox lr
