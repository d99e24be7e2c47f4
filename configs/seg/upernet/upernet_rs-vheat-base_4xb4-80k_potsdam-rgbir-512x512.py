# UPerNet on RS-vHeat-B, ISPRS Potsdam with all 4 bands (RGBIR; see configs/_base_/datasets/potsdam-rgbir.py):
# as the RGB config, with a 4-band stem. An RGB-pretrained stem is adapted to 4 bands when the checkpoint
# loads (mean kernel per band, logged). Band order B, G, R, IR, mean/std as the R-50 RGBIR config.
_base_ = [
    '../../_base_/models/upernet_rs-vheat-base.py', '../../_base_/datasets/potsdam-rgbir.py',
    'mmseg::_base_/default_runtime.py', '../../_base_/schedules/adamw-layer-decay_80k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(
        size=crop_size, mean=[103.53, 116.28, 123.675, 114.5], std=[57.375, 57.12, 58.395, 57.6], bgr_to_rgb=False),
    backbone=dict(in_channels=4),
    decode_head=dict(num_classes=6),
    auxiliary_head=dict(num_classes=6),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
