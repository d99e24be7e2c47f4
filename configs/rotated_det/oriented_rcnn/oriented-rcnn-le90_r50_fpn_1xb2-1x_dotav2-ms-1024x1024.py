# Multi-scale variant: patches of the images resized by 0.5, 1.0 and 1.5 (500 px overlap, mmrotate's
# DOTA ms setting) plus mmrotate's random rotation (dota_ms.py; tanks and roundabouts by 90-degree steps).
#   python tools/dataset_converters/dota_split.py ... --gap 500 --rates 0.5 1.0 1.5 \
#       --out-dir data/split_ms_dota2_0/trainval   (and test/ likewise, without labels)
_base_ = ['./oriented-rcnn-le90_r50_fpn_1xb2-1x_dotav2-ss-1024x1024.py']

data_root = 'data/split_ms_dota2_0/'
train_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.Resize', scale=(1024, 1024), keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.75, direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='RandomRotate', prob=0.5, angle_range=180, rect_obj_labels=[9, 11]),
    dict(type='mmdet.PackDetInputs')
]
train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
