# Siamese UPerNet, ResNet-18 (ImageNet) baseline on LEVIR-CD: 256x256 random crops of the 1024x1024
# tiles, 4 GPUs x 8 pairs, 40k iterations. Testing slides a 256x256 window (stride 128) over each whole
# 1024x1024 tile. Optimiser and schedule are mmrsfm defaults (AdamW 1e-4, linear decay to 0), not
# tuned to a published result. Best checkpoint by change-class F1 on val.
_base_ = [
    '../../_base_/models/siamese-upernet_r18.py', '../../_base_/datasets/levir-cd.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (256, 256)
model = dict(
    data_preprocessor=dict(size=crop_size),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(128, 128)))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.01))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=1.0, begin=0, end=40000, by_epoch=False)]
# visualization: tools/test.py --show-dir writes date A | date B | label | prediction panels
default_hooks = dict(checkpoint=dict(save_best='cd/F1', rule='greater'),
                     visualization=dict(type='mmrsfm.ChangeDetectionVisualizationHook'))
