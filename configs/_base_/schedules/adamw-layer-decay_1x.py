# Fine-tuning a pretrained backbone for rotated detection: AdamW with layer-wise lr decay (each backbone
# parameter's depth from backbone.get_layer_depth; neck and heads keep the base lr) on mmrotate's 1x
# schedule (12 epochs; linear warm-up over 500 iterations, lr x0.1 after epochs 8 and 11). lr 1e-4,
# weight decay 0.05 and betas are ViTDet's AdamW values; decay_rate is a generic default that configs set
# per backbone depth.
_base_ = 'mmrotate::_base_/schedules/schedule_1x.py'
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.9))
