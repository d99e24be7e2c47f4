# Siamese UPerNet, ResNet-18 on OSCD's 13 Sentinel-2 bands: 128x128 random crops of the 14 training
# cities, 4 GPUs x 8 pairs, 20k iterations; sliding-window testing on whole cities. Trained from scratch
# (an ImageNet RGB stem does not fit 13 bands). Inputs are L1C digital numbers / 1000 (mean 0, std 1000
# per band): replace with per-band statistics of your training cities if you have them.
# Optimiser and schedule are mmrsfm defaults, not tuned to a published result.
_base_ = [
    '../../_base_/models/siamese-upernet_r18.py', '../../_base_/datasets/oscd.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_20k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (128, 128)
num_bands = 13
model = dict(
    data_preprocessor=dict(
        mean=[0.0] * num_bands, std=[1000.0] * num_bands, bgr_to_rgb=False, size=crop_size),
    backbone=dict(in_channels=num_bands, init_cfg=None),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(64, 64)))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.01))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=1.0, begin=0, end=20000, by_epoch=False)]
# visualization: tools/test.py --show-dir writes date A | date B | label | prediction panels
default_hooks = dict(checkpoint=dict(save_best='cd/F1', rule='greater'),
                     visualization=dict(type='mmrsfm.ChangeDetectionVisualizationHook', rgb_bands=(3, 2, 1)))  # B04 B03 B02 as RGB
