# MAE's fine-tuning recipe (He et al. 2022, main_finetune.py / FINETUNE.md for ViT-B): AdamW lr 5e-4 per 256
# images (2e-3 at 1024), betas (0.9, 0.999), weight decay 0.05, layer-wise lr decay 0.65, 5 warm-up epochs,
# cosine to 1e-6 over 100 epochs. Used for the ViT and RSMamba classifiers, whose papers publish no
# classification recipe.
_base_ = './cls_adamw-layer-decay-cosine.py'
optim_wrapper = dict(optimizer=dict(lr=5e-4 * 1024 / 256, weight_decay=0.05), paramwise_cfg=dict(decay_rate=0.65))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=5, end=100, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=100)
auto_scale_lr = dict(base_batch_size=1024)
