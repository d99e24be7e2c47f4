# The official RS-vHeat fine-tuning recipe (KingBob-2000/RS-vHeat: base_train.sh, utils/config.py,
# configs/vHeat/RS_vHeat_base_224.yaml, main.py): 8 GPUs x 180 images, AdamW lr 5e-4 x 1440 / 512, weight
# decay 0.08, betas (0.9, 0.999), gradient clipping 5, 20 warm-up epochs from 5e-7 x 1440 / 512, cosine to
# 5e-6 x 1440 / 512 over 800 epochs (the code's default TRAIN.EPOCHS; the paper does not state its epochs),
# no layer-wise lr decay (TRAIN.LAYER_DECAY = 1.0).
_base_ = './cls_adamw-layer-decay-cosine.py'
optim_wrapper = dict(
    optimizer=dict(lr=5e-4 * 1440 / 512, weight_decay=0.08),
    paramwise_cfg=dict(decay_rate=1.0),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=20, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=5e-6 * 1440 / 512, by_epoch=True, begin=20, end=800,
         convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=800, val_interval=10)
auto_scale_lr = dict(base_batch_size=1440)
