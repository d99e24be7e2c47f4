# Faster R-CNN + FPN on RS-vHeat-B (pretrained) on SAR-AIRcraft-1.0, one-band input (in_channels=1): the
# SAR stem of an RS-vHeat checkpoint converted with --modality sar (a stem of another band count, e.g. the
# optical one, is adapted to one band when it loads; see mmrsfm.RSvHeat); AdamW + layer-wise lr decay.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../../_base_/datasets/sar-aircraft.py',
    '../../_base_/schedules/adamw-layer-decay_1x.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
model = dict(
    data_preprocessor=dict(mean=[117.04], std=[57.38], bgr_to_rgb=False),  # as the ResNet-50 SAR config
    backbone=dict(
        _delete_=True,
        type='mmrsfm.RSvHeat',
        arch='rs-base',
        in_channels=1,
        img_size=800,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/rs_vheat_base_sar.pth')),
    neck=dict(in_channels=[128, 256, 512, 1024]),
    roi_head=dict(bbox_head=dict(num_classes=7)))
