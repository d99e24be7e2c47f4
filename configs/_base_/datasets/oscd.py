# OSCD (Daudt et al., 2018): 24 Sentinel-2 L1C city pairs (14 train / 10 test), 13 bands, urban
# change. Layout (the release's three folders under short names; see mmrsfm.OSCDDataset):
#   data/oscd/images/{train,test}.txt, images/<city>/imgs_{1,2}/*_B01.tif ... *_B12.tif, *_B8A.tif
#   data/oscd/train_labels/<city>/cm/<city>-cm.tif, data/oscd/test_labels/<city>/cm/<city>-cm.tif
# Bands are read from the native imgs_{1,2} folders, as the authors' loader does, and the 20/60 m ones
# upsampled to 10 m when loaded (rectified=True reads imgs_{1,2}_rect instead). OSCD has no
# validation split: validation and test both use the 10 test cities.
dataset_type = 'mmrsfm.OSCDDataset'
data_root = 'data/oscd/'
bands = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10', 'B11', 'B12')
crop_size = (128, 128)
train_pipeline = [
    dict(type='mmrsfm.LoadBiTemporalImages', to_float32=True),  # (H, W, 2 x 13), L1C digital numbers
    dict(type='mmrsfm.LoadCDAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='mmrsfm.RandomRotate90', prob=0.5),
    dict(type='mmrsfm.PackCDInputs'),
]
test_pipeline = [
    dict(type='mmrsfm.LoadBiTemporalImages', to_float32=True),
    dict(type='mmrsfm.LoadCDAnnotations'),
    dict(type='mmrsfm.PackCDInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        bands=bands,
        ann_file='images/train.txt',
        data_prefix=dict(img_path='images', seg_map_path='train_labels'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        bands=bands,
        ann_file='images/test.txt',
        data_prefix=dict(img_path='images', seg_map_path='test_labels'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmrsfm.ChangeDetectionMetric')
test_evaluator = val_evaluator
