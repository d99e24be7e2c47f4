# Linear probing of RS-vHeat-B on AID 20 %: the whole encoder frozen (stem, 4 stages, their embeddings and
# outnorm3), only the linear head trains; no drop path, no mixup/cutmix, 100 epochs. A protocol for
# comparing pretrainings, not one of the paper's tables.
_base_ = './rs-vheat-base_8xb180-800e_aid-tr20-224.py'
model = dict(backbone=dict(frozen_stages=4, drop_path_rate=0.0), train_cfg=dict(_delete_=True),
             head=dict(loss=dict(_delete_=True, type='CrossEntropyLoss', loss_weight=1.0)))
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=5, end=100, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=100)
