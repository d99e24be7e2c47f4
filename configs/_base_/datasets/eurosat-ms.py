# EuroSAT, 13-band multispectral release (EuroSATallBands.zip) as released:
#   data/EuroSAT_MS/ds/images/remote_sensing/otherDatasets/sentinel_2/tif/<Class>/<Class>_<n>.tif
# with the train/val/test lists of Neumann et al. 2019 (eurosat-{train,val,test}.txt, 16200/5400/5400; the
# lists name the RGB .jpg files, mapped to the .tif of the same name) in data/EuroSAT_MS/.
# Bands: the release files carry no band names and store B8A last (B01..B12, then B8A); the 12 bands
# SpectralGPT was pretrained on (B10 dropped) are selected by name in the pretraining order.
# Pipeline of the official fine-tuning (util/datasets.py): per-band z-score, RandomResizedCrop 128 (scale
# 0.2-1, bicubic) + horizontal flip; test: resize to 146 (= 128 / 0.875) and centre crop 128. The z-score
# runs in the data preprocessor, after the crop, which is the same up to float rounding (bicubic weights
# sum to 1). Mean/std: the official EuroSat constants (util/datasets.py) read in the order B01-B08, B8A,
# B09, B10, B11, B12 with B10 left out -- unverified: the official list drops file index 10, which in the
# release's order is B11, so which band each constant belongs to is uncertain (see the README).
dataset_type = 'mmrsfm.EuroSATDataset'
data_root = 'data/EuroSAT_MS/'
num_classes = 10
release_bands = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B09', 'B10', 'B11', 'B12', 'B8A')
bands = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B11', 'B12')
band_mean = [752.40087073, 884.29673756, 1144.16202635, 1297.47289228, 1624.90992062, 2194.6423161, 2422.21248945,
             2517.76053101, 2581.64687018, 2645.51888987, 2368.51236873, 1805.06846033]
band_std = [1108.02887453, 1155.15170768, 1183.6292542, 1368.11351514, 1370.265037, 1355.55390699, 1416.51487101,
            1474.78900051, 1439.3086061, 1582.28010962, 1455.52084939, 1343.48379601]
load = dict(type='mmrsfm.LoadMultiBandImage', band_names=release_bands, bands=bands)
train_pipeline = [
    load,
    dict(type='mmrsfm.RandomResizedCrop', size=128, scale=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs')
]
test_pipeline = [
    load,
    dict(type='Resize', scale=(146, 146), interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=128),
    dict(type='PackInputs')
]
loader = dict(num_workers=8, persistent_workers=True)
train_dataloader = dict(
    batch_size=16,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, release='ms', split_file='eurosat-train.txt',
                 pipeline=train_pipeline),
    **loader)
val_dataloader = dict(
    batch_size=64,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, release='ms', split_file='eurosat-val.txt',
                 pipeline=test_pipeline),
    **loader)
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], split_file='eurosat-test.txt'))
val_evaluator = [dict(type='Accuracy', topk=(1, )), dict(type='SingleLabelMetric', items=('recall', ), average=None)]
test_evaluator = val_evaluator
