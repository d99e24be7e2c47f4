# Scene classifier on RSMamba-base (the RS4D student): the last layer's tokens after ln1, global average
# pooling, a linear head. Same fine-tuning recipe as the ViT-86M classifier (MAE-style); RS4D publishes
# no classification recipe. The backbone starts from the student of an RS4D distillation run
# (configs/pretrain/rs4d; keys prefixed 'student.') or, with init_cfg.prefix=None, from a checkpoint
# converted by tools/model_converters/rs4d2mmrsfm.py.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(
        type='mmrsfm.RSMamba',
        arch='base',
        img_size=224,
        out_indices=(-1, ),
        init_cfg=dict(type='Pretrained', checkpoint='work_dirs/distill_rsmamba-base_sam-vit-b_4xb4-20e_sa1b-1024/'
                      'epoch_20.pth', prefix='student.')),
    neck=dict(type='mmrsfm.GlobalPoolNorm', in_channels=256, norm=False),  # ln1 already normalises
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=256,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
