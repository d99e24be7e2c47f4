# RS-vHeat pretraining (arXiv 2411.17984; no official pretraining code, see mmrsfm.FrequencyMaskPretrainer):
# frequency-domain hierarchical masking, spatial + frequency L1 reconstruction, optical-SAR consistency;
# 200 epochs, 224^2, base lr 2e-4 (cosine), 8 GPUs x 32.
# Data: co-registered pairs under data/optsar/{optical,sar}/ with matching file names; an optical-only
# or SAR-only folder works with `modalities=('opt',)` / `('sar',)` (see the *_opt-224 variant).
default_scope = 'mmrsfm'
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)

data_root = 'data/optsar/'
modalities = ('opt', 'sar')
crop_size = (224, 224)

model = dict(
    type='FrequencyMaskPretrainer',
    data_preprocessor=dict(
        type='MultiModalDataPreprocessor',
        mean=dict(opt=[123.675, 116.28, 103.53], sar=[127.5]),
        std=dict(opt=[58.395, 57.12, 57.375], sar=[64.0])),
    backbone=dict(
        type='RSvHeat', arch='rs-base', in_channels=dict(opt=3, sar=1), img_size=crop_size,
        out_indices=(2, 3), drop_path_rate=0.1),
    in_channels=dict(opt=3, sar=1),
    mask_ratio=(0.2, 0.3),
    loss_weights=dict(spatial=1.0, frequency=1.0, contrastive=1.0))

train_pipeline = [
    dict(type='LoadMultiModalImages', color_types=dict(sar='grayscale')),
    dict(type='PairedRandomCropFlip', crop_size=crop_size),
    dict(type='PackMultiModalInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='MultiModalImageFolder',
        data_root=data_root,
        modalities=modalities,
        data_prefix=dict(opt='optical/', sar='sar/'),
        pipeline=train_pipeline))

max_epochs = 200
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.95), weight_decay=0.05),
                     clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=10, end=max_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
log_processor = dict(window_size=10)
log_level = 'INFO'
load_from = None
resume = False
