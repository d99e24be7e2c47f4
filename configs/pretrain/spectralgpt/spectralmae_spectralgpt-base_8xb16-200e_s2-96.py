# SpectralGPT pretraining, stage 1 (Hong et al., TPAMI 2024, arXiv 2311.07113; official code:
# github.com/danfenghong/IEEE_TPAMI_SpectralGPT): SpectralMAE on SpectralGPT-B at 96x96, 12 Sentinel-2
# bands (B10 dropped), per-image per-band min-max, 90% of the 3-D tokens masked, multi-target loss
# (masked-token MSE + spectral-sum MSE). Official: fMoW-Sentinel, 200 epochs, 20 warm-up, AdamW
# betas (0.9, 0.95), wd 0.05, half-cycle cosine, batch 16 x 8 GPUs x 32 accumulation = 4096 and
# lr = 2e-4 x 4096 / 256 = 3.2e-3. Stage 2 (*_s2-128.py) continues at 128x128 from this checkpoint.
_base_ = ['../../_base_/datasets/sentinel2-pretrain.py', 'mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (96, 96)
max_epochs = 200
model = dict(
    type='mmrsfm.SpectralMAE',
    data_preprocessor=dict(type='mmrsfm.MultiSpectralDataPreprocessor', norm='minmax', num_bands=12, size=crop_size),
    backbone=dict(type='mmrsfm.SpectralGPT', arch='base', in_channels=12, img_size=crop_size, patch_size=8,
                  t_patch_size=3),
    mask_ratio=0.9,
    decoder_embed_dims=512,
    decoder_depth=4,
    decoder_num_heads=16,
    spectral_sum_weight=1.0)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=3.2e-3, betas=(0.9, 0.95), weight_decay=0.05),
    accumulative_counts=32,
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0))  # MAE: no decay on 1-D
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=20, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=20, end=max_epochs, eta_min=0.0,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
val_cfg = val_dataloader = val_evaluator = None  # no validation during pretraining
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'))
log_processor = dict(by_epoch=True)
