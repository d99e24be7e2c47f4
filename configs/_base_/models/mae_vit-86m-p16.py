# MAE (He et al. 2022) around ScalableViT-86m/16, as the billion-scale RS ViTs were pretrained (arXiv 2304.05215; no code or weights released).
# The encoder runs all-global attention on the kept 25% of tokens (mmrsfm/models/pretrainers/mae_pretrainer.py);
# downstream ViTDet-style configs load it with window attention switched back on:
#   backbone=dict(type='mmrsfm.ScalableViT', arch='86m', ...,
#                 init_cfg=dict(type='Pretrained', checkpoint=CKPT, prefix='backbone.'))
model = dict(
    type='mmrsfm.MAEPretrainer',
    data_preprocessor=dict(
        type='mmrsfm.MultiModalDataPreprocessor',
        mean=dict(opt=[123.675, 116.28, 103.53]),
        std=dict(opt=[58.395, 57.12, 57.375])),
    backbone=dict(type='mmrsfm.ScalableViT', arch='86m', in_channels=3, img_size=224, patch_size=16,
                  window_size=0, use_rel_pos=False, drop_path_rate=0.),
    mask_ratio=0.75,
    decoder_embed_dims=512,
    decoder_depth=8,
    decoder_num_heads=16,
    norm_pix_loss=True,
    modality='opt')
