# Fine-tuning a pretrained backbone for segmentation: AdamW with layer-wise lr decay (each backbone
# parameter's depth from backbone.get_layer_depth; heads keep the base lr), linear warm-up then linear
# decay over mmseg's 80k iterations. Values follow mmseg's Swin/UPerNet recipe; not tuned for RS-vHeat.
_base_ = 'mmseg::_base_/schedules/schedule_80k.py'
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=80000, by_epoch=False)
]
