# MAE pretraining of ScalableViT-1.3b/16 with DeepSpeed ZeRO-2, bf16 (FlexibleRunner; needs deepspeed).
# 32 GPUs x 64 images = 2048 per step.
_base_ = [
    '../../_base_/models/mae_vit-86m-p16.py', '../../_base_/datasets/mae_opt-image-folder-224.py',
    '../../_base_/schedules/mae_adamw-cosine-800e.py', '../../_base_/deepspeed_bf16_zero2.py'
]
model = dict(backbone=dict(arch='1.3b', with_cp=True))  # per-block activation checkpointing
train_dataloader = dict(batch_size=64)
strategy = dict(train_micro_batch_size_per_gpu=64)
optim_wrapper = dict(type='DeepSpeedOptimWrapper')  # the DeepSpeed engine steps the optimizer
