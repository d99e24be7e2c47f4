# Scene classifier on the billion-scale RS ViT (86M, patch 16), fine-tuned as MAE fine-tunes (He et al.
# 2022, main_finetune.py with --global_pool): mean of the patch tokens, fc_norm (mmrsfm.GlobalPoolNorm), a
# linear head; drop path 0.1, mixup 0.8 / cutmix 1.0, label smoothing 0.1. The backbone starts from an MAE
# pretraining run of configs/pretrain/scalable_vit (keys prefixed 'backbone.'; placeholder path, no weights
# are published) or, with init_cfg.prefix=None, a checkpoint converted by scalable_vit2mmrsfm.py.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(
        type='mmrsfm.ScalableViT',
        arch='86m',
        img_size=224,
        out_indices=(-1, ),
        window_size=0,  # every block global at 224 (14 x 14 tokens), as the MAE encoder
        final_norm=False,  # MAE's global_pool drops the final norm for fc_norm after pooling
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/vit-86m_mae_millionaid.pth', prefix='backbone.')),
    neck=dict(type='mmrsfm.GlobalPoolNorm', in_channels=768),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5)),  # MAE: trunc_normal_(head, std=2e-5)
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
