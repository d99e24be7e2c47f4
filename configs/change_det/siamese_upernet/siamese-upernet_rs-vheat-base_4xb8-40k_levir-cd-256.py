# The ResNet-18 baseline with RS-vHeat-B (RSvHeat, arch 'rs-base') as the shared encoder.
# Weights: the official RS-vHeat pretraining checkpoint converted with (same file as the seg configs)
#   python tools/model_converters/rs_vheat2mmrsfm.py RS_vHeat.pth checkpoints/rs_vheat_base_opt.pth --rs-vheat --modality opt
# or a checkpoint of configs/pretrain/rs_vheat/ (then add prefix='backbone.' to init_cfg).
# Layer-wise lr decay 0.9 and drop path 0.3 are defaults, not tuned.
_base_ = ['./siamese-upernet_r18_4xb8-40k_levir-cd-256.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmrsfm.RSvHeat',
        arch='rs-base',
        in_channels=3,
        img_size=256,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/rs_vheat_base_opt.pth')),
    decode_head=dict(in_channels=[128, 256, 512, 1024], channels=512),  # 'diff' fusion keeps channels
    auxiliary_head=dict(in_channels=512, channels=256))
optim_wrapper = dict(constructor='mmrsfm.LayerDecayOptimWrapperConstructor', paramwise_cfg=dict(decay_rate=0.9))
