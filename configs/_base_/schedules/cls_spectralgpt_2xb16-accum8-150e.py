# SpectralGPT's fine-tuning recipe (README command and main_finetune.py defaults of the official repo):
# 2 GPUs x 16 images x 8 accumulation steps = 256 per step, AdamW lr 2e-4 x 256 / 256, betas (0.9, 0.999),
# weight decay 0.05, layer-wise lr decay 0.75 (BEiT-style), 20 warm-up epochs (the argparse default),
# half-cycle cosine to ~0 over 150 epochs.
_base_ = './cls_adamw-layer-decay-cosine.py'
optim_wrapper = dict(
    optimizer=dict(lr=2e-4, weight_decay=0.05), paramwise_cfg=dict(decay_rate=0.75), accumulative_counts=8)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=20, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-14, by_epoch=True, begin=20, end=150, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=150)
auto_scale_lr = dict(base_batch_size=256)
