# DIOR, horizontal boxes (Li et al., ISPRS J. 2020): the release read as it is by mmrsfm.DIORHBBDataset
# (JPEGImages-trainval/, JPEGImages-test/, 'Annotations/Horizontal Bounding Boxes/*.xml',
# ImageSets/Main/{train,val,test}.txt). 23,463 images of 800 x 800 px, 20 categories. Common protocol:
# train on train + val (the release has no trainval.txt, hence a ConcatDataset), evaluate on test with VOC
# mAP at IoU 0.5 (mmdet's VOCMetric, 11-point interpolation as the VOC07 protocol).
dataset_type = 'mmrsfm.DIORHBBDataset'
data_root = 'data/DIOR/'
img_scale = (800, 800)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),  # overhead views: no canonical up
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),  # after Resize: ground truth stays in original pixels
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
trainval_split = dict(type=dataset_type, data_root=data_root, img_subdir='JPEGImages-trainval',
                      filter_cfg=dict(filter_empty_gt=True), pipeline=train_pipeline)
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(type='ConcatDataset', datasets=[
        dict(trainval_split, ann_file='ImageSets/Main/train.txt'),
        dict(trainval_split, ann_file='ImageSets/Main/val.txt'),
    ]))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='ImageSets/Main/test.txt',
                 img_subdir='JPEGImages-test', test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='VOCMetric', metric='mAP', iou_thrs=0.5, eval_mode='11points')
test_evaluator = val_evaluator
