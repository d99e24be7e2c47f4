# RS4D "prompt" head (RSPrompter-anchor style) on distilled RSMamba-base,
# WHU building (aerial, instances from raster masks):
# official RS4D settings (official `QinzheYang/RS4D` configs): LSJ at 1024, AdamW 1e-4, 300 epochs, batch 4.
_base_ = [
    '../../_base_/models/rs4d_prompt-rcnn_rsmamba-base_agg-sfpn.py', '../../_base_/datasets/whu-building.py',
    './_base_/lsj-1024_adamw-cosine.py'
]
model = dict(
    roi_head=dict(bbox_head=dict(num_classes=1)))
train_dataloader = dict(batch_size=4, dataset=dict(pipeline={{_base_.lsj_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.lsj_test_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.lsj_test_pipeline}}))
