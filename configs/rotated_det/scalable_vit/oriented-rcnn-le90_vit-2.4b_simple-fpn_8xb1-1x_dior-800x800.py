# DIOR-R with the 2.4B ViT ("ViT-G12X4" in the paper's DIOR-R result; our arch, see ScalableViT): the size
# diff of the DOTA v2.0 2.4B config (layer decay 0.93; ~39 GB of weights + optimizer states per GPU under
# DDP, estimate: 80 GB GPUs or FSDP).
_base_ = './oriented-rcnn-le90_vit-1.3b_simple-fpn_8xb1-1x_dior-800x800.py'
model = dict(backbone=dict(arch='2.4b', init_cfg=dict(checkpoint='checkpoints/vit-2.4b_mae_millionaid.pth')))
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.93))
