# Oriented R-CNN (le90) with the 86M ViT (ViT-B/16, MAE on MillionAID) + simple feature pyramid on DOTA v2.0
# single-scale 1024 px patches: the setting of "A Billion-scale Foundation Model for Remote Sensing Images"
# (Cha et al., arXiv 2304.05215), whose detector settings are unpublished (arXiv 2304.05215; no code or weights released). What comes from
# where: dataset, heads and 1x schedule are mmrotate's DOTA recipe (as our ResNet-50 / RS-vHeat configs,
# configs/rotated_det/oriented_rcnn/); backbone (window 14 + 4 global blocks, rel-pos, drop path), AdamW
# (lr 1e-4, wd 0.05) and the simple FPN are ViTDet's; layer-wise lr decay is ours (below). 4 GPUs x 2 images.
# Make the patches as in oriented-rcnn-le90_r50_fpn_1xb2-1x_dotav2-ss-1024x1024.py (tools/dataset_converters/
# dota_split.py, 1024 px, 200 px overlap); training and validation read trainval patches as in mmrotate.
_base_ = [
    '../../_base_/models/oriented-rcnn-le90_vit-86m_simple-fpn.py', 'mmrotate::_base_/datasets/dotav2.py',
    '../../_base_/schedules/adamw-layer-decay_1x.py', 'mmrotate::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)

# Layer-wise lr decay by depth (every size): the patch embedding (depth + 1 layers below the heads) trains
# at ~1% of the base lr, as ViTDet-B's 0.7 over 12 blocks (0.7**13 = 0.0097): 0.7 / 0.91 / 0.875 / 0.93 for
# 86m / 605m (48 blocks) / 1.3b (34) / 2.4b (63).
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.7))
train_dataloader = dict(batch_size=2)
auto_scale_lr = dict(enable=False, base_batch_size=8)  # 4 GPUs x 2; `tools/train.py --auto-scale-lr` rescales
