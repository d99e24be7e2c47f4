# RS4D distillation ("Efficient Remote Sensing Instance Segmentation with Linear-Time State Space Distilled
# Visual Foundation Models", IEEE TGRS): a frozen SAM ViT-B image encoder (teacher) -> RSMamba-base (student),
# L1 on the aligned stride-16 token maps; the student sees the image with Gaussian noise and masked 16x16
# patches, ramped from 0 to 20 % / 20 % over the first half of training (mmrsfm.FeatureDistiller docs).
# Fixed official settings: model.noise_std=0.2 model.mask_ratio=0.2 (20/20); 0.1/0.0; 0.0/0.1; 0.3/0.3.
# Teacher: the official SAM checkpoint (sam_vit_b_01ec64.pth, or RS4D's 20 %-pruned copy in the same
# layout) is read directly (its image encoder, without the 768->256 conv neck).
# Data: any folder of RGB images (the paper: SA-1B), data/sa1b/images/*.jpg.
# Not official: epochs, lr, batch and warmup are ours (the distillation script is unreleased).
default_scope = 'mmrsfm'
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)

data_root = 'data/sa1b/'
img_size = 1024
teacher_checkpoint = 'checkpoints/sam_vit_b_01ec64.pth'

model = dict(
    type='FeatureDistiller',
    data_preprocessor=dict(type='MultiModalDataPreprocessor', mean=dict(opt=[123.675, 116.28, 103.53]),
                           std=dict(opt=[58.395, 57.12, 57.375])),
    # SAM ViT-B: 12 blocks of width 768, 14x14 windows with global blocks 2, 5, 8, 11, rel-pos, no final norm
    teacher=dict(type='ScalableViT', arch='base', img_size=img_size, window_size=14, use_rel_pos=True,
                 final_norm=False, out_indices=(-1, )),
    teacher_checkpoint=teacher_checkpoint,
    student=dict(type='RSMamba', arch='base', img_size=img_size, out_indices=(-1, )),
    student_channels=256,
    teacher_channels=768,
    noise_std=(0.0, 0.2),
    mask_ratio=(0.0, 0.2),
    ramp_fraction=0.5,
    ramp_mode='cosine',
    mask_patch_size=16)

train_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(type='PairedRandomCropFlip', crop_size=(img_size, img_size), scale=img_size),
    dict(type='PackMultiModalInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='MultiModalImageFolder', data_root=data_root, modalities=('opt', ),
                 data_prefix=dict(opt='images/'), pipeline=train_pipeline))

max_epochs = 20
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.05),
                     clip_grad=dict(max_norm=1.0),
                     # no decay on the student's A_log / D / norms / biases / position embedding (Mamba practice);
                     # the frozen teacher has no trainable parameters
                     paramwise_cfg=dict(flat_decay_mult=0., custom_keys={'A_log': dict(decay_mult=0.),
                                                                          'pos_embed': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=16)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
log_processor = dict(window_size=10)
log_level = 'INFO'
load_from = None
resume = False
