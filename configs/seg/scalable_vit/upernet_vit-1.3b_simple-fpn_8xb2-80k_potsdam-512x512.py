# The 605M config with the 1.3B ViT (width 1664, 34 blocks, MAE on MillionAID): drop path 0.5 (ViTDet-H),
# layer decay 0.875 (0.875**35 = 0.009); checkpointing, bf16 AMP, 8 GPUs x 2 as the 605M config. Weights +
# grads + AdamW states take ~21 GB per GPU under DDP (estimate): 40 GB+ GPUs. Or shard them with FSDP: add
# '../../_base_/fsdp_bf16_vit-blocks.py' (the MAE pretraining's FlexibleRunner settings) to _base_, with a plain
# OptimWrapper and with_cp=False as that file says (not tested for detection / segmentation).
_base_ = './upernet_vit-605m_simple-fpn_8xb2-80k_potsdam-512x512.py'
model = dict(
    backbone=dict(arch='1.3b', drop_path_rate=0.5,
                  init_cfg=dict(checkpoint='checkpoints/vit-1.3b_mae_millionaid.pth')),
    neck=dict(in_channels=1664))
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.875))
