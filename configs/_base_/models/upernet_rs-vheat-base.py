# UPerNet on RS-vHeat-B (mmrsfm.RSvHeat, arch 'rs-base': 4 stages of 128/256/512/1024 channels
# at strides 4-32), mmseg's UPerNet head and auxiliary FCN head. The backbone starts from an RS-vHeat
# pretraining checkpoint converted with
#   python tools/model_converters/rs_vheat2mmrsfm.py RS_vHeat.pth checkpoints/rs_vheat_base_opt.pth \
#       --rs-vheat --modality opt
_base_ = 'mmseg::_base_/models/upernet_r50.py'
model = dict(
    pretrained=None,  # mmseg's ResNet URL; the backbone loads its own init_cfg
    backbone=dict(
        _delete_=True,
        type='mmrsfm.RSvHeat',
        arch='rs-base',
        img_size=512,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/rs_vheat_base_opt.pth')),
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512))
