# Linear probing of SpectralGPT-B on EuroSAT: patch/position embeddings, all 12 blocks and the final norm
# frozen, only the linear head trains; no drop path, no mixup/cutmix, 100 epochs, no layer decay. A
# protocol for comparing pretrainings, not one of the paper's tables.
_base_ = './spectralgpt-base_2xb16-accum8-150e_eurosat-ms-128.py'
model = dict(backbone=dict(frozen_stages=12, drop_path_rate=0.0), train_cfg=dict(_delete_=True),
             head=dict(loss=dict(_delete_=True, type='CrossEntropyLoss', loss_weight=1.0)))
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.0), paramwise_cfg=dict(decay_rate=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=5, end=100, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=100)
