# SpectralGPT pretraining, stage 2 (progressive training, arXiv 2311.07113): continue stage 1 at 128x128
# (official: BigEarthNet-S2, blr 1e-4 -> lr 1.6e-3 at batch 4096). The stage-1 weights load with
# load_from (weights only; do not --resume: the optimizer state has the 96-px shapes); the encoder's and
# decoder's spatial position embeddings are interpolated 12x12 -> 16x16 on load, where the official
# --resume_different_size drops and re-initialises them.
_base_ = ['./spectralmae_spectralgpt-base_8xb16-200e_s2-96.py']
crop_size = (128, 128)
model = dict(data_preprocessor=dict(size=crop_size), backbone=dict(img_size=crop_size))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='mmrsfm.LoadMultiBandImage', drop_bands=('B10', ), fill_value='mean'),
    dict(type='mmrsfm.RandomResizedCrop', size=crop_size, scale=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs', meta_keys=('img_path', 'ori_shape', 'img_shape', 'band_names')),
]))
optim_wrapper = dict(optimizer=dict(lr=1.6e-3))
load_from = 'work_dirs/spectralmae_spectralgpt-base_8xb16-200e_s2-96/epoch_200.pth'
