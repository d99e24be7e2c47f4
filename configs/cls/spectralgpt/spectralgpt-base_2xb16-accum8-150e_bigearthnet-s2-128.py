# SpectralGPT-B (from SpectralGPT+) fine-tuned on BigEarthNet-S2 (19 classes, multi-label, 12 bands,
# 128 x 128), the official recipe: sigmoid outputs with MultiLabelSoftMarginLoss (engine_finetune_BE.py),
# no mixup/cutmix (the official loop skips them for BigEarthNet). Scored by micro/macro mAP and F1.
_base_ = [
    '../../_base_/models/cls_spectralgpt-base.py', '../../_base_/datasets/bigearthnet-s2.py',
    '../../_base_/schedules/cls_spectralgpt_2xb16-accum8-150e.py'
]
model = dict(
    head=dict(
        _delete_=True,
        type='MultiLabelLinearClsHead',
        num_classes={{_base_.num_classes}},
        in_channels=768,
        loss=dict(type='mmrsfm.MultiLabelSoftMarginLoss'),
        init_cfg=dict(type='Normal', layer='Linear', std=0.02)))
