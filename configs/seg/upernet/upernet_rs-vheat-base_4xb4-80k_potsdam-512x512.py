# UPerNet on RS-vHeat-B (pretrained), ISPRS Potsdam: as the ResNet-50 baseline, with AdamW + layer-wise
# lr decay (mmrsfm.LayerDecayOptimWrapperConstructor).
_base_ = [
    '../../_base_/models/upernet_rs-vheat-base.py', '../../_base_/datasets/potsdam.py',
    'mmseg::_base_/default_runtime.py', '../../_base_/schedules/adamw-layer-decay_80k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=6),
    auxiliary_head=dict(num_classes=6),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
