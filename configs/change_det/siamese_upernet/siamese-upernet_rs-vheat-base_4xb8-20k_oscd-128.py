# The 13-band OSCD baseline with RS-vHeat-B as the shared encoder. The optical pretraining checkpoint's
# 3-band stem is adapted to 13 bands when it loads (mean kernel x 3/13 per band, logged; see
# RSvHeat._adapt_stem_bands); everything after the stem loads as pretrained. Converted with
#   python tools/model_converters/rs_vheat2mmrsfm.py RS_vHeat.pth checkpoints/rs_vheat_base_opt.pth --rs-vheat --modality opt
# Layer-wise lr decay 0.9, AdamW 1e-4 and drop path 0.2 are defaults, not tuned.
_base_ = ['./siamese-upernet_r18_4xb8-20k_oscd-128.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmrsfm.RSvHeat',
        arch='rs-base',
        in_channels=13,
        img_size=128,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/rs_vheat_base_opt.pth')),
    decode_head=dict(in_channels=[128, 256, 512, 1024], channels=512),  # 'diff' fusion keeps channels
    auxiliary_head=dict(in_channels=512, channels=256))
optim_wrapper = dict(
    constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
    optimizer=dict(lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(decay_rate=0.9))
