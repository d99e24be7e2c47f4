# BigEarthNet-S2 v1.0 as released: data/BigEarthNet/BigEarthNet-v1.0/<patch>/<patch>_B01.tif ... _B12.tif
# and <patch>_labels_metadata.json; the official split lists train.csv / val.csv / test.csv and the
# cloud/shadow and seasonal-snow exclusion lists in data/BigEarthNet/. Labels: the 19-class nomenclature
# (43 original CORINE labels mapped as the official label_indices.json); multi-label.
# Bands: the 12 release bands (no B10), resampled to the 10 m grid (120 x 120, bicubic, as the official
# BigEarthNet-19 models), in SpectralGPT's pretraining order. Normalisation: SpectralGPT's BigEarthNet
# fine-tuning (util/datasets.py, BigEarthNetFinetuneDataset): [mean - 2 std, mean + 2 std] -> [0, 1] per
# band, clipped and 8-bit quantised; RandomResizedCrop 128 (scale 0.2-1, bicubic) + horizontal flip; test:
# resize to 146 and centre crop 128. SpectralGPT reports fine-tuning on 10 % of the training split, a
# subset it does not publish (issue #30); this config uses the whole official training split.
dataset_type = 'mmrsfm.BigEarthNetDataset'
data_root = 'data/BigEarthNet/'
num_classes = 19
band_mean = [1370.19151926, 1184.3824625, 1120.77120066, 1136.26026392, 1263.73947144, 1645.40315151,
             1846.87040806, 1762.59530783, 1972.62420416, 582.72633433, 1732.16362238, 1247.91870117]
band_std = [633.15169573, 650.2842772, 712.12507725, 965.23119807, 948.9819932, 1108.06650639, 1258.36394548,
            1233.1492281, 1364.38688993, 472.37967789, 1310.36996126, 1087.6020813]
exclude_files = ['patches_with_cloud_and_shadow.csv', 'patches_with_seasonal_snow.csv']
train_pipeline = [
    dict(type='mmrsfm.LoadBigEarthNetPatch'),
    dict(type='mmrsfm.SigmaRangeScale', mean=band_mean, std=band_std, sigmas=2.0),
    dict(type='mmrsfm.RandomResizedCrop', size=128, scale=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs')
]
test_pipeline = [
    dict(type='mmrsfm.LoadBigEarthNetPatch'),
    dict(type='mmrsfm.SigmaRangeScale', mean=band_mean, std=band_std, sigmas=2.0),
    dict(type='Resize', scale=(146, 146), interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=128),
    dict(type='PackInputs')
]
split = dict(type=dataset_type, data_root=data_root, exclude_files=exclude_files)
loader = dict(num_workers=8, persistent_workers=True)
train_dataloader = dict(
    batch_size=16,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(split, split_file='train.csv', pipeline=train_pipeline),
    **loader)
val_dataloader = dict(
    batch_size=64,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(split, split_file='val.csv', pipeline=test_pipeline),
    **loader)
test_dataloader = dict(val_dataloader, dataset=dict(split, split_file='test.csv', pipeline=test_pipeline))
# Dataset-level micro/macro mAP and F1 (torchmetrics / scikit-learn definitions). SpectralGPT's script
# prints a batch-averaged micro mAP instead: MultiLabelMAP(batch_averaged=True) reproduces it.
val_evaluator = dict(type='mmrsfm.MultiLabelMAP')
test_evaluator = val_evaluator
