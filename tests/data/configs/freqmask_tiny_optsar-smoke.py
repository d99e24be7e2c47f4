# The RS-vHeat pretraining config with a tiny backbone, 32^2 crops and an iteration schedule.
_base_ = ['../../../configs/pretrain/rs_vheat/freqmask_rs-vheat-base_8xb32-200e_optsar-224.py']
crop_size = (32, 32)
model = dict(
    backbone=dict(arch=dict(_delete_=True, embed_dims=16, depths=(1, 1, 1, 1), post_norm=True, layer_scale=1e-5,
                            spatial_correction=True), img_size=crop_size, drop_path_rate=0.0),
    decoder_embed_dims=32, proj_dim=16)
train_pipeline = [
    dict(type='LoadMultiModalImages', color_types=dict(sar='grayscale')),
    dict(type='PairedRandomCropFlip', crop_size=crop_size),
    dict(type='PackMultiModalInputs'),
]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.0))
param_scheduler = []
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=40)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(by_epoch=False, interval=40))
log_processor = dict(by_epoch=False, window_size=1)
