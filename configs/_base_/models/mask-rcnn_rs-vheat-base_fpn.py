# Mask R-CNN with FPN on RS-vHeat-B (mmrsfm.RSvHeat, arch 'rs-base': 128/256/512/1024 channels
# at strides 4-32). The backbone starts from an RS-vHeat pretraining checkpoint converted with
#   python tools/model_converters/rs_vheat2mmrsfm.py RS_vHeat.pth checkpoints/rs_vheat_base_opt.pth \
#       --rs-vheat --modality opt
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmrsfm.RSvHeat',
        arch='rs-base',
        img_size=512,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/rs_vheat_base_opt.pth')),
    neck=dict(in_channels=[128, 256, 512, 1024]))
