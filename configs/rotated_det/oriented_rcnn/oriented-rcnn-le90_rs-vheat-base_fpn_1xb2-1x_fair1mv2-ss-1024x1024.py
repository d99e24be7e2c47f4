# FAIR1M-2.0 with the RS-vHeat-B backbone (the paper reports 48.29 mAP on FAIR1M-2.0; its detector and
# schedule are unpublished, so this is the ResNet-50 FAIR1M config plus the backbone diff of the DOTA v2.0
# RS-vHeat config, not a reproduction of that number).
_base_ = ['./oriented-rcnn-le90_r50_fpn_1xb2-1x_fair1mv2-ss-1024x1024.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmrsfm.RSvHeat',
        arch='rs-base',
        img_size=1024,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/rs_vheat_base_opt.pth')),
    neck=dict(in_channels=[128, 256, 512, 1024]))
optim_wrapper = dict(
    constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(decay_rate=0.9))
test_evaluator = dict(
    outfile_prefix='work_dirs/oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_fair1mv2-ss-1024x1024/Task1_val')
