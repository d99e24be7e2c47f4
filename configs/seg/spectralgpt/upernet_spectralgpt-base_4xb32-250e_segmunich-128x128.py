# UPerNet + SpectralGPT-B (SpectralGPT+ weights) on SegMunich, the official recipe (official `danfenghong/IEEE_TPAMI_SpectralGPT` downstream code):
# 128x128 patches, 10 bands padded to 12 with the band mean, per-image min-max, batch 32 per GPU (4 GPUs),
# AdamW lr 1e-4, weight decay 1e-5, 250 epochs: 15 warm-up epochs then poly decay (power 0.9),
# drop path 0.5, CE with ignore index 255. Added here: layer-wise lr decay 0.75 (SpectralGPT's fine-tuning
# default, used by its classification recipe; the official SegMunich trainer has none).
_base_ = [
    '../../_base_/models/upernet_spectralgpt-base.py', '../../_base_/datasets/segmunich.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_20k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (128, 128)
max_epochs = 250
model = dict(data_preprocessor=dict(size=crop_size), backbone=dict(drop_path_rate=0.5))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-5),
    constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.75))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=15, convert_to_iter_based=True),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=15, end=max_epochs,
         convert_to_iter_based=True)
]
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
default_hooks = dict(
    logger=dict(interval=20, log_metric_by_epoch=True),
    checkpoint=dict(by_epoch=True, interval=10, max_keep_ckpts=3, save_best='mIoU', rule='greater'))
log_processor = dict(by_epoch=True)
