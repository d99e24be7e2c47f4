# Scene classifier on RS-vHeat-B, as the official fine-tuning code builds it (KingBob-2000/RS-vHeat,
# models/vHeat/RS_vHeat.py): the stage-3 map through a LayerNorm (our outnorm3 = their classifier.0),
# global average pooling, one linear layer (their classifier.3). Drop path 0.5 (configs/vHeat/
# RS_vHeat_base_224.yaml); mixup 0.8 / cutmix 1.0 with label smoothing 0.1 (utils/config.py defaults, timm
# Mixup: one of the two per batch). A released RS-vHeat / vHeat classifier converts with
#   python tools/model_converters/rs_vheat2mmrsfm.py CKPT OUT.pth --classifier
# and runs with tools/test.py CONFIG OUT.pth. Fine-tuning starts from a converted pretraining checkpoint:
#   python tools/model_converters/rs_vheat2mmrsfm.py RS_vHeat.pth checkpoints/rs_vheat_base_opt.pth --modality opt
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet (timm IMAGENET_DEFAULT_*), as data/build.py
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='mmrsfm.RSvHeat',
        arch='rs-base',
        img_size=224,
        out_indices=(3, ),
        drop_path_rate=0.5,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/rs_vheat_base_opt.pth')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,  # set by the dataset config
        in_channels=1024,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=0.02)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
