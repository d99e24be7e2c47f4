# Oriented R-CNN (le90) with the RS-vHeat-B backbone (4 stages of 128/256/512/1024 channels) on DOTA v2.0
# single-scale patches; the rest is the ResNet-50 config. AdamW with layer-wise lr decay, as usual for
# fine-tuning a pretrained foundation backbone. The checkpoint is an RS-vHeat pretraining converted by
#   python tools/model_converters/rs_vheat2mmrsfm.py RS_vHeat.pth checkpoints/rs_vheat_base_opt.pth \
#       --rs-vheat --modality opt
# (or one written by configs/pretrain/rs_vheat/, with prefix='backbone.' in init_cfg).
_base_ = ['./oriented-rcnn-le90_r50_fpn_1xb2-1x_dotav2-ss-1024x1024.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmrsfm.RSvHeat',
        arch='rs-base',
        img_size=1024,  # design size of the frequency/heat-capacity embeddings (resized to any input)
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/rs_vheat_base_opt.pth')),
    neck=dict(in_channels=[128, 256, 512, 1024]))
optim_wrapper = dict(
    constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(decay_rate=0.9))
