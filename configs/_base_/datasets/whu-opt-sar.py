# WHU-OPT-SAR (paired GF-1 optical R, G, B, NIR + GF-3 SAR, 7 land-cover classes; mmrsfm.WHUOptSARDataset
# documents the release, label values and what was verified) after
#   python tools/dataset_converters/whu_opt_sar.py RELEASE data/whu_opt_sar
# which tiles the 5556x3704 px pairs into 512 px patches (train/, val/; every 5th tile is validation)
# and copies the whole validation tiles to val_tiles/ for tools/test.py (slide inference in the model
# configs). mmrsfm.LoadStackedModalities stacks each pair as 5 bands (optical 0-3, SAR 4), so the
# geometric transforms below crop / flip / rescale both modalities and the label identically;
# mmseg's PhotoMetricDistortion (RGB only) acts on the optical R, G, B bands through mmrsfm.ApplyToBands.
dataset_type = 'mmrsfm.WHUOptSARDataset'
data_root = 'data/whu_opt_sar'
crop_size = (512, 512)
load_pair = dict(type='mmrsfm.LoadStackedModalities', bands=dict(opt=4, sar=1))
train_pipeline = [
    load_pair,
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='mmrsfm.ApplyToBands', bands=(0, 1, 2), transforms=[dict(type='PhotoMetricDistortion')]),
    dict(type='PackSegInputs')
]
test_pipeline = [load_pair, dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix=dict(img_path='train'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix=dict(img_path='val'), pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix=dict(img_path='val_tiles'),
                 pipeline=test_pipeline))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
