# DIOR-R with the 1.3B ViT: the size diff of the DOTA v2.0 1.3B config (drop path 0.5, layer decay 0.875;
# ~21 GB of weights + optimizer states per GPU under DDP, estimate).
_base_ = './oriented-rcnn-le90_vit-605m_simple-fpn_8xb1-1x_dior-800x800.py'
model = dict(
    backbone=dict(arch='1.3b', drop_path_rate=0.5,
                  init_cfg=dict(checkpoint='checkpoints/vit-1.3b_mae_millionaid.pth')),
    neck=dict(in_channels=1664))
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.875))
