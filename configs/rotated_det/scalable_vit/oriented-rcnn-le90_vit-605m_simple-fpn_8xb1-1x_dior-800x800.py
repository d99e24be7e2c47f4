# DIOR-R with the 605M ViT: the size diff of the DOTA v2.0 605M config (drop path 0.4, layer decay 0.91,
# checkpointing, bf16 AMP, 8 GPUs x 1; ~10 GB of weights + optimizer states per GPU under DDP, estimate).
_base_ = './oriented-rcnn-le90_vit-86m_simple-fpn_4xb2-1x_dior-800x800.py'
model = dict(
    backbone=dict(arch='605m', drop_path_rate=0.4, with_cp=True,
                  init_cfg=dict(checkpoint='checkpoints/vit-605m_mae_millionaid.pth')),
    neck=dict(in_channels=1024))
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', paramwise_cfg=dict(decay_rate=0.91))
train_dataloader = dict(batch_size=1)
