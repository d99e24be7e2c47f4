# UPerNet, ResNet-50 (ImageNet) baseline on LoveDA (urban + rural), read from the official release
# layout: mmseg's UPerNet, LoveDA pipelines and 80k schedule, 4 GPUs x 4 512x512 crops; the 1024x1024
# val images are scored by sliding a 512 window (stride 341).
_base_ = [
    'mmseg::_base_/models/upernet_r50.py', '../../_base_/datasets/loveda.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_80k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=7),
    auxiliary_head=dict(num_classes=7),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
