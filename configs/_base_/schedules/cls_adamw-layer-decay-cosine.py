# Fine-tuning a scene classifier: mmpretrain's runtime; AdamW with layer-wise lr decay (each backbone
# parameter's depth from backbone.get_layer_depth; neck and head keep the base lr; no weight decay on
# norms, biases and position/frequency embeddings), linear warm-up then cosine decay, by epoch. Configs
# set lr, decay_rate, weight decay, epochs and warm-up from their paper's recipe.
_base_ = 'mmpretrain::_base_/default_runtime.py'
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
    constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.75))
warmup_epochs = 5
max_epochs = 100
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=warmup_epochs, end=max_epochs,
         convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2, save_best='auto'),
                     logger=dict(type='LoggerHook', interval=20))
