# Scene classifier on SpectralGPT-B (12 Sentinel-2 bands, 128 x 128, 8 x 8 x 3 tokens), as the official
# fine-tuning model (models_vit_tensor.VisionTransformer): mean of the last block's tokens, LayerNorm
# (the backbone's `norm`, applied after pooling), linear head; drop path 0.2. Two differences, both on
# purpose: the pretrained spatial/spectral position embeddings are loaded (the official classifier has a
# single zero-initialised `pos_embed` and loads neither, issue #32), and the average covers every token
# (the official `x[:, 1:].mean` drops a real patch token; avg_skip_first_token=True restores it, as the
# converted released classifiers need: spectralgpt2mmrsfm.py --classifier). Starts from SpectralGPT+:
#   python tools/model_converters/spectralgpt2mmrsfm.py SpectralGPT+.pth checkpoints/spectralgpt_plus_base.pth
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', mean=[0.0] * 12, std=[1.0] * 12, to_rgb=False),
    backbone=dict(
        type='mmrsfm.SpectralGPT',
        arch='base',
        in_channels=12,
        img_size=128,
        out_type='avg_token',
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/spectralgpt_plus_base.pth')),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='Normal', layer='Linear', std=0.02)))  # official: normal_(head.weight, std=0.02)
