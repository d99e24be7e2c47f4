# Siamese UPerNet + SpectralGPT-B (SpectralGPT+ weights) on OSCD, following the official OSCD model
# (official `danfenghong/IEEE_TPAMI_SpectralGPT` downstream code): one shared encoder for both dates, per-date spectral fusion Linear(4 -> 1), the
# deconvolution pyramid and a PPM/FPN head with 2 classes; 12 bands (B10 dropped) read from OSCD's native
# per-band files and upsampled to 10 m; per-image per-band min-max; 128x128 crops, batch 32 (4 GPUs x 8);
# AdamW lr 1e-4, weight decay 1e-5, ExponentialLR 0.95 per epoch.
# Differences: the official fuses the dates by the signed difference fA - fB and weights the NLL loss per
# class; here mmrsfm.BiTemporalFusion 'diff' (|fA - fB|) and unweighted CE. The official trains 300 epochs
# of 128-px patches at stride 63 (~1000 patches from the 14 training cities: ~31 iterations per epoch at
# batch 32, an estimate), hence 9300 iterations and gamma = 0.95 ** (1 / 31) per iteration.
# Layer-wise lr decay 0.75 as the SegMunich config.
_base_ = ['../siamese_upernet/siamese-upernet_r18_4xb8-20k_oscd-128.py']
bands = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B11', 'B12')  # no B10
max_iters = 9300
model = dict(
    data_preprocessor=dict(
        _delete_=True, type='mmrsfm.MultiSpectralBiTemporalDataPreprocessor', norm='minmax', size=(128, 128),
        pad_val=0, seg_pad_val=255),
    backbone=dict(
        _delete_=True,
        type='mmrsfm.SpectralGPT',
        arch='base',
        in_channels=len(bands),
        img_size=128,
        out_type='pyramid',
        out_indices=(-1, ),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/spectralgpt_plus_base.pth')),
    decode_head=dict(in_channels=[256, 512, 1024, 2048], channels=256, pool_scales=(1, 2, 3, 6)),
    auxiliary_head=None)
train_dataloader = dict(dataset=dict(bands=bands))
val_dataloader = dict(dataset=dict(bands=bands))
test_dataloader = val_dataloader
optim_wrapper = dict(
    optimizer=dict(lr=1e-4, weight_decay=1e-5),
    constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.75))
param_scheduler = [dict(type='ExponentialLR', gamma=0.95**(1 / 31), by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000))
