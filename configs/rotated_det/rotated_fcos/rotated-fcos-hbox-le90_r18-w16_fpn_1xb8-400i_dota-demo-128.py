# Quickstart: a small Rotated FCOS (le90) trained from scratch on CPU in a few minutes, on the
# synthetic DOTA-format dataset written by `python -m mmrsfm.datasets.synthetic dota data/dota_demo`
# (3 DOTA v2.0 classes, 128x128 images). Everything else comes from mmrotate's own DOTA config; its
# variant with an axis-aligned IoU loss + angle L1 loss, because the rotated-IoU loss of the plain one
# has no CPU kernel in mmcv (and its KLD variant gives NaN on zero-size predictions from scratch).
_base_ = ['mmrotate::rotated_fcos/rotated-fcos-hbox-le90_r50_fpn_1x_dota.py']
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)

data_root = 'data/dota_demo/'
metainfo = dict(classes=('plane', 'ship', 'storage-tank'))
img_scale = (128, 128)
max_iters = 400

model = dict(
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[32, 64, 128], out_channels=64, start_level=0, num_outs=3),
    bbox_head=dict(
        num_classes=len(metainfo['classes']),
        in_channels=64,
        feat_channels=64,
        stacked_convs=2,
        strides=[8, 16, 32],
        regress_ranges=((-1, 16), (16, 32), (32, 1e8))),
    test_cfg=dict(nms_pre=200, max_per_img=100))
model['backbone']['out_indices'] = (1, 2, 3)

train_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.75, direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='mmdet.PackDetInputs')
]
val_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,  # the images are tiny: worker processes cost more than they save on 2 cores
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='train/annfiles/',
        data_prefix=dict(img_path='train/images/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='val/annfiles/',
        data_prefix=dict(img_path='val/images/'),
        pipeline=val_pipeline))
test_dataloader = val_dataloader

train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
# From scratch, AdamW converges far faster than the SGD schedule tuned for ImageNet-initialised R50.
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters, eta_min=1e-5)
]
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(by_epoch=False, interval=max_iters // 2, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
