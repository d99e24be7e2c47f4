# UPerNet, ResNet-50 on WHU-OPT-SAR with early fusion: the stacked optical (R, G, B, NIR) + SAR bands
# (configs/_base_/datasets/whu-opt-sar.py) enter one 5-band stem conv. The ImageNet stem has 3 input
# channels, so that conv starts random (mmengine reports the size mismatch when loading); the rest of the
# ResNet loads as usual. Baseline for the RS-vHeat stem-fusion config.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py', '../../_base_/datasets/whu-opt-sar.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_80k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(  # R, G, B, NIR, SAR; as the RS-vHeat config (untuned)
        size=crop_size, mean=[123.675, 116.28, 103.53, 114.5, 127.5], std=[58.395, 57.12, 57.375, 57.6, 64.0],
        bgr_to_rgb=False),
    backbone=dict(in_channels=5),
    decode_head=dict(num_classes=7),
    auxiliary_head=dict(num_classes=7),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
