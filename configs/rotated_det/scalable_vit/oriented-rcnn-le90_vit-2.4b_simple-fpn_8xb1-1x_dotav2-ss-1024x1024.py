# The 1.3B config with the 2.4B ViT (width 1664, 63 blocks, MAE on MillionAID): layer decay 0.93
# (0.93**64 = 0.01). Weights + grads + AdamW states take ~39 GB per GPU under DDP (estimate): 80 GB GPUs,
# or FSDP as noted in the 1.3B config.
_base_ = './oriented-rcnn-le90_vit-1.3b_simple-fpn_8xb1-1x_dotav2-ss-1024x1024.py'
model = dict(backbone=dict(arch='2.4b', init_cfg=dict(checkpoint='checkpoints/vit-2.4b_mae_millionaid.pth')))
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.93))
