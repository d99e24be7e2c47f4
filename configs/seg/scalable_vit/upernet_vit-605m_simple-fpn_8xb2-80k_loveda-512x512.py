# The 86M config with the 605M ViT (width 1024, 48 blocks, MAE on MillionAID): drop path 0.4 (ViTDet-L),
# layer decay 0.91 (0.91**49 = 0.01, see the 86M config), activation checkpointing and bf16 AMP; 8 GPUs x 2
# crops (same total batch). Weights + grads + AdamW states take ~10 GB per GPU under DDP (estimate, not
# measured): 24 GB+ GPUs.
_base_ = './upernet_vit-86m_simple-fpn_4xb4-80k_loveda-512x512.py'
model = dict(
    backbone=dict(arch='605m', drop_path_rate=0.4, with_cp=True,
                  init_cfg=dict(checkpoint='checkpoints/vit-605m_mae_millionaid.pth')),
    neck=dict(in_channels=1024))
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', paramwise_cfg=dict(decay_rate=0.91))
train_dataloader = dict(batch_size=2)
