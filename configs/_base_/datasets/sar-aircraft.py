# SAR-AIRcraft-1.0 (Wang et al., Journal of Radars 2023): the VOC-style release read as it is by
# mmrsfm.SARAircraftDataset (JPEGImages/, Annotations/*.xml, ImageSets/Main/{train,val,test}.txt).
# Gaofen-3 1 m SAR, 4,368 images of 800 to 1500 px, 7 aircraft types. Trained on train + val, evaluated on
# test with VOC mAP at IoU 0.5 (mmdet's VOCMetric, 11-point). The images are loaded as one band
# (color_type='grayscale'): models take in_channels=1 and a 1-value mean/std in their data_preprocessor.
dataset_type = 'mmrsfm.SARAircraftDataset'
data_root = 'data/SAR-AIRcraft-1.0/'
img_scale = (800, 800)
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),  # after Resize: ground truth stays in original pixels
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
trainval_split = dict(type=dataset_type, data_root=data_root, filter_cfg=dict(filter_empty_gt=True),
                      pipeline=train_pipeline)
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
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='ImageSets/Main/test.txt', test_mode=True,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='VOCMetric', metric='mAP', iou_thrs=0.5, eval_mode='11points')
test_evaluator = val_evaluator
