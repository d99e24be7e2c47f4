# MAE pretraining of ScalableViT-1.3b/16 with FSDP (FlexibleRunner): a unit per block, bf16, activation
# checkpointing, full checkpoints for downstream use. 32 GPUs x 64 images = 2048 per step.
_base_ = [
    '../../_base_/models/mae_vit-86m-p16.py', '../../_base_/datasets/mae_opt-image-folder-224.py',
    '../../_base_/schedules/mae_adamw-cosine-800e.py', '../../_base_/fsdp_bf16_vit-blocks.py'
]
model = dict(backbone=dict(arch='1.3b', with_cp=False))  # the strategy checkpoints the blocks
train_dataloader = dict(batch_size=64)
