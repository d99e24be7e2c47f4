# Faster R-CNN + FPN on RS-vHeat-B (pretrained; checkpoint converted with
# tools/model_converters/rs_vheat2mmrsfm.py --rs-vheat --modality opt) on DIOR (horizontal boxes): as the
# ResNet-50 baseline, with AdamW + layer-wise lr decay (mmrsfm.LayerDecayOptimWrapperConstructor).
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../../_base_/datasets/dior-hbb.py',
    '../../_base_/schedules/adamw-layer-decay_1x.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmrsfm.RSvHeat',
        arch='rs-base',
        img_size=800,  # design size of the FVE/SCE grids = the training scale
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/rs_vheat_base_opt.pth')),
    neck=dict(in_channels=[128, 256, 512, 1024]),
    roi_head=dict(bbox_head=dict(num_classes=20)))
