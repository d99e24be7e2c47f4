# UPerNet, ResNet-50 on AIR-PolSAR-Seg: the 4 stacked polarisations (HH, HV, VH, VV, in dB; see
# configs/_base_/datasets/air-polsar-seg.py) enter a 4-band stem conv, which starts random (the ImageNet
# stem has 3 input channels; mmengine reports the size mismatch); the rest loads ImageNet weights.
# Baseline for the RS-vHeat config.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py', '../../_base_/datasets/air-polsar-seg.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_80k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(  # as the RS-vHeat config (untuned dB statistics)
        size=crop_size, mean=[50.0, 40.0, 40.0, 50.0], std=[10.0, 10.0, 10.0, 10.0], bgr_to_rgb=False),
    backbone=dict(in_channels=4),
    decode_head=dict(num_classes=6),
    auxiliary_head=dict(num_classes=6),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
