# Fine-tuning a pretrained backbone for detection / instance segmentation: AdamW with layer-wise lr
# decay (each backbone parameter's depth from backbone.get_layer_depth; neck and heads keep the base lr)
# on mmdet's 2x schedule (24 epochs, lr x0.1 at 16 and 22). Not tuned for RS-vHeat.
_base_ = 'mmdet::_base_/schedules/schedule_2x.py'
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.9))
