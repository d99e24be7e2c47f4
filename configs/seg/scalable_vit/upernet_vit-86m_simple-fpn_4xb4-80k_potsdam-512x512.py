# UPerNet with the 86M ViT (ViT-B/16, MAE on MillionAID) + simple feature pyramid on ISPRS Potsdam (RGB,
# eroded labels; the whole 6000 px test tiles are scored by sliding a 512 window): the setting of
# "A Billion-scale Foundation Model for Remote Sensing Images" (Cha et al., arXiv 2304.05215),
# whose decoder and schedule are unpublished (arXiv 2304.05215; no code or weights released). What comes from where: data, crops, sliding
# inference and the 80k schedule (warm-up 1500 iterations, then linear decay) are our ResNet-50 / RS-vHeat
# UPerNet recipe (configs/seg/upernet/); backbone (window 14 + 4 global blocks, rel-pos, drop path) and the
# simple FPN are ViTDet's; AdamW lr 1e-4 / wd 0.05 are MAE's ViT-B UPerNet values; layer-wise lr decay is ours
# (below). 4 GPUs x 4 crops of 512x512.
_base_ = [
    '../../_base_/models/upernet_vit-86m_simple-fpn.py', '../../_base_/datasets/potsdam.py',
    'mmseg::_base_/default_runtime.py', '../../_base_/schedules/adamw-layer-decay_80k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=6),
    auxiliary_head=dict(num_classes=6),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))

# Layer-wise lr decay by depth (every size): the patch embedding (depth + 1 layers below the heads) trains
# at ~1% of the base lr, as ViTDet-B's 0.7 over 12 blocks (0.7**13 = 0.0097): 0.7 / 0.91 / 0.875 / 0.93 for
# 86m / 605m (48 blocks) / 1.3b (34) / 2.4b (63).
optim_wrapper = dict(optimizer=dict(lr=1e-4, weight_decay=0.05), paramwise_cfg=dict(decay_rate=0.7))
train_dataloader = dict(batch_size=4)
auto_scale_lr = dict(enable=False, base_batch_size=16)  # 4 GPUs x 4; `tools/train.py --auto-scale-lr` rescales
