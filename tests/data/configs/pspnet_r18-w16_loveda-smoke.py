# Scope smoke test (default_scope = mmseg): mmseg's own LoveDA PSPNet config, shrunk for CPU.
_base_ = ['mmseg::pspnet/pspnet_r18-d8_4xb4-80k_loveda-512x512.py']
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (64, 64)
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    backbone=dict(stem_channels=16, base_channels=16),
    decode_head=dict(in_channels=128, channels=16, pool_scales=(1, 2)),
    auxiliary_head=dict(in_channels=64, channels=16))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root='data/loveda_smoke', pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root='data/loveda_smoke', pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
