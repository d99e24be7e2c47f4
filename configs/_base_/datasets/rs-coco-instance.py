# Shared settings of the COCO-format instance-segmentation datasets (SSDD, WHU building, NWPU VHR-10):
# mmdet's COCO instance base, read through mmrsfm.CheckedCocoDataset (bad annotations fail with the file
# and the fix; images without annotations are counted in the log). Each dataset file sets data_root,
# metainfo and the annotation/image paths of its splits. Metric: COCO bbox + segm mAP.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'
dataset_type = 'mmrsfm.CheckedCocoDataset'
img_scale = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),  # overhead views: no canonical up
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(dataset=dict(type=dataset_type, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type, pipeline=test_pipeline))
test_dataloader = val_dataloader
