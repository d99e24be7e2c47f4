# UPerNet, ResNet-50 on ISPRS Potsdam with all 4 bands (RGBIR; see configs/_base_/datasets/potsdam-rgbir.py
# for the conversion and the band-keeping pipeline); otherwise the RGB baseline. The ImageNet stem has 3
# input channels, so the 4-band stem conv starts random (mmengine reports the size mismatch when loading);
# the rest of the ResNet loads as usual. Band order B, G, R, IR: ImageNet mean/std for B, G, R, and for IR
# the mean of those (untuned: compute your own over img_dir/train for a real run).
_base_ = [
    'mmseg::_base_/models/upernet_r50.py', '../../_base_/datasets/potsdam-rgbir.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_80k.py'
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
