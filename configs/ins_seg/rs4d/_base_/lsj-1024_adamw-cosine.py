# RS4D training recipe (official `QinzheYang/RS4D` configs): 1024 x 1024 large-scale jitter (resize ratio 0.1-2.0, then a
# 1024 crop), ImageNet statistics; AdamW lr 1e-4, weight decay 0.05; linear warmup over 50 iterations,
# then epoch-wise cosine to 1e-7; COCO bbox + segm. Top configs set the dataloaders' pipelines from
# lsj_train_pipeline / lsj_test_pipeline and their epochs.
_base_ = 'mmdet::_base_/default_runtime.py'
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
lsj_scale = (1024, 1024)
lsj_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=lsj_scale, ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=lsj_scale, recompute_bbox=True,
         allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='PackDetInputs')
]
lsj_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=lsj_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
max_epochs = 300
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# Official: AdamW 1e-4, wd 0.05 on every parameter. We exempt the SSM's A_log / D, norms, biases and the
# position embedding from weight decay, as Mamba and ViT training do (decay pulls A_log -> 0, i.e. the
# state decay rates towards 1, and D towards 0).
SSM_NO_DECAY = dict(flat_decay_mult=0., custom_keys={'A_log': dict(decay_mult=0.), 'pos_embed': dict(decay_mult=0.)})
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
                     paramwise_cfg=SSM_NO_DECAY)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-7, by_epoch=True, begin=0, end=max_epochs),
]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3, save_best='coco/segm_mAP', rule='greater'))
