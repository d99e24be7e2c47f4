# Unlabelled Sentinel-2 L1C GeoTIFFs for SpectralGPT pretraining: data/s2/images/**/*.tif (subfolders too) of
# 13-band images whose bands are described (B01 ... B12, B8A; files without band descriptions: add
# band_names=[...] to LoadMultiBandImage), e.g. fMoW-Sentinel's train/<category>/<scene>/ tree or
# BigEarthNet-S2 patches. B10 (cirrus) is dropped, giving the 12 bands in SpectralGPT's order; nodata pixels take the
# band mean. Augmentation as the official: RandomResizedCrop(scale=(0.2, 1), bicubic) + horizontal flip.
# Per-image per-band min-max normalisation happens in model.data_preprocessor (norm='minmax').
dataset_type = 'mmrsfm.MultiModalImageFolder'
data_root = 'data/s2/'
crop_size = (96, 96)
train_pipeline = [
    dict(type='mmrsfm.LoadMultiBandImage', drop_bands=('B10', ), fill_value='mean'),
    dict(type='mmrsfm.RandomResizedCrop', size=crop_size, scale=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs', meta_keys=('img_path', 'ori_shape', 'img_shape', 'band_names')),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        modalities=('s2', ),
        recursive=True,
        data_prefix=dict(s2='images/'),
        pipeline=train_pipeline))
