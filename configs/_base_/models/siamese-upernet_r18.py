# Siamese UPerNet for binary change detection: one ResNet-18 (V1c, ImageNet) encodes both dates with
# shared weights, |fA - fB| fuses each of the 4 scales, UPerHead predicts unchanged / changed and an
# FCN auxiliary head supervises the stage-3 difference. Inputs are the stacked pair (6, H, W).
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='mmrsfm.SiameseEncoderDecoder',
    data_preprocessor=dict(
        type='mmrsfm.BiTemporalDataPreprocessor',  # mean/std per band of one date, used for both
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        in_channels=3,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet18_v1c')),
    fusion=dict(type='mmrsfm.BiTemporalFusion', mode='diff'),  # 'concat' / 'both': x2 / x3 head in_channels
    decode_head=dict(
        type='UPerHead',
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=256,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=256,
        in_index=2,
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
