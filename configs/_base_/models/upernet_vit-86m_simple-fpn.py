# UPerNet on a plain ViT, ViTDet style: mmrsfm.ScalableViT (arch '86m' = ViT-B/16) gives one stride-16 map,
# mmrsfm.SimpleFPN turns it into strides 4-32 for mmseg's UPerHead (+ the FCN auxiliary head on stride 16).
# Backbone as ViTDet fine-tunes it: window attention (14) with 4 evenly spaced global blocks (ScalableViT's
# defaults), decomposed relative position bias on (new tables, zero-initialised: MAE has none), drop path
# 0.1 (ViTDet-B / MAE's ViT-B UPerNet).
#
# The backbone starts from an MAE pretraining on MillionAID (the paper's protocol): a checkpoint written by
# tools/train.py with an mmrsfm MAE pretraining config, whose keys carry the pretrainer's 'backbone.'
# prefix (stripped by init_cfg.prefix). For a backbone-only file, e.g. an official MAE / timm checkpoint
# converted by tools/model_converters/scalable_vit2mmrsfm.py, set init_cfg.prefix=None. The path is a placeholder (no
# weights are published): put the file there or override it (`--cfg-options model.backbone.init_cfg.checkpoint=`).
_base_ = 'mmseg::_base_/models/upernet_r50.py'
model = dict(
    pretrained=None,  # mmseg's ResNet URL; the backbone loads its own init_cfg
    backbone=dict(
        _delete_=True,
        type='mmrsfm.ScalableViT',
        arch='86m',
        img_size=512,  # design size of the position embedding / global rel-pos tables (resized otherwise)
        patch_size=16,
        window_size=14,
        use_rel_pos=True,
        drop_path_rate=0.1,
        with_cp=False,
        out_indices=(-1, ),
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/vit-86m_mae_millionaid.pth', prefix='backbone.')),
    neck=dict(
        type='mmrsfm.SimpleFPN',
        in_channels=768,  # the ViT width: 768 / 1024 / 1664 / 1664 for 86m / 605m / 1.3b / 2.4b
        out_channels=256,
        scale_factors=(4.0, 2.0, 1.0, 0.5)),
    decode_head=dict(in_channels=[256, 256, 256, 256], in_index=[0, 1, 2, 3], channels=512),
    auxiliary_head=dict(in_channels=256, in_index=2, channels=256))
