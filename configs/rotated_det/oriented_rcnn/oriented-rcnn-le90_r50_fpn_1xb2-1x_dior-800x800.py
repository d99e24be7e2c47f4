# Oriented R-CNN (le90), ResNet-50 + FPN, mmrotate's DOTA recipe on DIOR-R (20 categories, 800x800 images,
# no splitting): trained on train + val, evaluated on test, as mmrotate's _base_/datasets/dior.py. That file
# cannot be listed as a second base next to the detector (mmengine refuses keys defined by two bases), so
# its data settings are restated here. DIOR-R images are not split into patches, so val/test already score
# whole images (mmrsfm.DOTAVOCMetric, the devkit's VOC07 mAP): unlike DOTA v2.0 there is nothing to merge and no
# merged-evaluation variant is needed.
_base_ = ['mmrotate::oriented_rcnn/oriented-rcnn-le90_r50_fpn_1x_dota.py']
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)

dataset_type = 'DIORDataset'
data_root = 'data/DIOR/'
img_scale = (800, 800)
model = dict(roi_head=dict(bbox_head=dict(num_classes=20)))

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
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),  # after Resize: boxes stay unscaled
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
trainval_split = dict(type=dataset_type, data_root=data_root, data_prefix=dict(img_path='JPEGImages-trainval'),
                      filter_cfg=dict(filter_empty_gt=True), pipeline=train_pipeline)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        ignore_keys=['DATASET_TYPE'],
        datasets=[
            dict(trainval_split, ann_file='ImageSets/Main/train.txt'),
            dict(trainval_split, ann_file='ImageSets/Main/val.txt'),
        ]))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/Main/test.txt',
        data_prefix=dict(img_path='JPEGImages-test'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

# Scored as the official DOTA devkit scores (exact polygon IoU, IoU > 0.5, VOC07 11-point AP); mmrotate's
# DOTAMetric uses mmcv's box_iou_rotated, which scores near-coincident boxes 0 (see README "Evaluation").
val_evaluator = dict(type='mmrsfm.DOTAVOCMetric')
test_evaluator = val_evaluator
