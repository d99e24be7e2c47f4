# SegMunich (SpectralGPT, TPAMI 2024): 128x128 Sentinel-2 patches, 10 bands, 13 classes (mmrsfm.SegMunichDataset
# documents the layout, band names and label values). As the official loader: the 10 bands are padded to
# 12 with two copies of the per-pixel band mean, then (model.data_preprocessor, norm='minmax') each image
# is min-max normalised per band; training augments with k x 90-degree rotations (k uniform in 0..3) and
# independent horizontal / vertical flips.
dataset_type = 'mmrsfm.SegMunichDataset'
data_root = 'data/SegMunich/'
segmunich_bands = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B8A', 'B11', 'B12')  # undescribed files
load_image = dict(type='mmrsfm.LoadMultiBandImage', band_names=segmunich_bands)
train_pipeline = [
    load_image,
    dict(type='LoadAnnotations'),
    dict(type='mmrsfm.PadBands', num_bands=12, mode='mean'),
    dict(type='mmrsfm.RandomRotate90', prob=0.75),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),  # independent flips, as imgaug's in the official
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    load_image,
    dict(type='LoadAnnotations'),
    dict(type='mmrsfm.PadBands', num_bands=12, mode='mean'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
