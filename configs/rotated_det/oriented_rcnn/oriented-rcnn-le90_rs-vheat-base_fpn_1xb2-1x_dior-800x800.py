# DIOR-R with the RS-vHeat-B backbone; the backbone diff is the one of the DOTA v2.0 RS-vHeat config at
# DIOR's 800 px design size.
_base_ = ['./oriented-rcnn-le90_r50_fpn_1xb2-1x_dior-800x800.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmrsfm.RSvHeat',
        arch='rs-base',
        img_size=800,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/rs_vheat_base_opt.pth')),
    neck=dict(in_channels=[128, 256, 512, 1024]))
optim_wrapper = dict(
    constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(decay_rate=0.9))
