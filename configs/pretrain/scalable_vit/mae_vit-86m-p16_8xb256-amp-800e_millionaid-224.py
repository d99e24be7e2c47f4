# MAE pretraining of ScalableViT-86m/16 on an optical image folder (MillionAID in "A Billion-scale Foundation
# Model for Remote Sensing Images", arXiv 2304.05215): plain Runner, DDP over 8 GPUs x 256 images, fp16 AMP.
# `tools/dist_train.sh CONFIG 8`.
_base_ = [
    '../../_base_/models/mae_vit-86m-p16.py', '../../_base_/datasets/mae_opt-image-folder-224.py',
    '../../_base_/schedules/mae_adamw-cosine-800e.py'
]
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
