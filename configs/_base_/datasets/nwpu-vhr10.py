# NWPU VHR-10 (Cheng et al. 2014), instance segmentation: data_root is the release folder "NWPU VHR-10
# dataset"; masks come from the later COCO instance-mask release (annotations.json over the 650 positive
# images), split 70/30 by `python tools/dataset_converters/nwpu_vhr10.py data/nwpu-vhr10 --instances
# annotations.json` (the dataset has no official split; seeded draw). Ten classes. The official box-only
# annotations (--boxes) suit detectors, not Mask R-CNN. Metric: COCO bbox + segm mAP.
_base_ = './rs-coco-instance.py'
data_root = 'data/nwpu-vhr10/'
metainfo = dict(
    classes=('airplane', 'ship', 'storage tank', 'baseball diamond', 'tennis court', 'basketball court',
             'ground track field', 'harbor', 'bridge', 'vehicle'))
img_scale = (1024, 1024)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=train_pipeline,
                                     ann_file='annotations/nwpu_vhr10_instances_train.json',
                                     data_prefix=dict(img='positive image set/')))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=test_pipeline,
                                   ann_file='annotations/nwpu_vhr10_instances_val.json',
                                   data_prefix=dict(img='positive image set/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/nwpu_vhr10_instances_val.json')
test_evaluator = val_evaluator
