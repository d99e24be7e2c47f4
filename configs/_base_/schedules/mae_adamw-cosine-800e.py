# MAE's pretraining schedule (He et al. 2022): AdamW (0.9, 0.95), weight decay 0.05 (none on norms,
# biases and the mask token), lr 1.5e-4 per 256 images, 40 warm-up epochs, cosine to 0, 800 epochs.
# The billion-scale paper's own epochs are unpublished (arXiv 2304.05215; no code or weights released).
default_scope = 'mmrsfm'
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)

max_epochs = 800
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1.5e-4 * 2048 / 256, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.,
                       custom_keys={'mask_token': dict(decay_mult=0.), 'pos_embed': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=40, end=max_epochs, eta_min=0.,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=2048)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=20, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
randomness = dict(seed=0, diff_rank_seed=True)  # different masks on every rank
log_processor = dict(window_size=10)
log_level = 'INFO'
load_from = None
resume = False
