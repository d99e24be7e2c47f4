# UPerNet on SpectralGPT-B (mmrsfm.SpectralGPT), the official SegMunich/OSCD dense model: the last block's
# tokens, spectral groups fused by Linear(4 -> 1), a deconvolution pyramid to 256/512/1024/2048 channels at
# strides 1/2/4/8 (dropout 0.5), then a PPM (1, 2, 3, 6) + FPN head at 256 channels. The official head has
# no auxiliary head. Inputs: 12 Sentinel-2 bands (B10 dropped), per-image per-band min-max.
# Pretrained weights: python tools/model_converters/spectralgpt2mmrsfm.py SpectralGPT+.pth \
#     checkpoints/spectralgpt_plus_base.pth
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='mmrsfm.MultiSpectralDataPreprocessor', norm='minmax', num_bands=12, pad_val=0, seg_pad_val=255),
    backbone=dict(
        type='mmrsfm.SpectralGPT',
        arch='base',
        in_channels=12,
        img_size=128,
        patch_size=8,
        t_patch_size=3,
        out_type='pyramid',
        out_indices=(-1, ),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/spectralgpt_plus_base.pth')),
    decode_head=dict(
        type='UPerHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=256,
        dropout_ratio=0.1,
        num_classes=13,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
