# LEVIR-CD (Chen & Shi, 2020): 637 pairs of 1024x1024 RGB tiles (0.5 m), building construction and
# demolition. Official layout under data_root: {train,val,test}/{A,B,label}/*.png (445/64/128 pairs),
# labels 0/255 (mapped to 0/1 by mmrsfm.LEVIRCDDataset). `python -m mmrsfm.datasets.synthetic levircd DIR`
# writes the same layout.
dataset_type = 'mmrsfm.LEVIRCDDataset'
data_root = 'data/levir-cd/'
crop_size = (256, 256)
train_pipeline = [
    dict(type='mmrsfm.LoadBiTemporalImages'),  # img = [A; B] stacked on channels, (H, W, 6)
    dict(type='mmrsfm.LoadCDAnnotations'),
    # mmseg's geometric transforms (also RandomResize, Resize) act on the stacked pair and the label alike
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='mmrsfm.RandomRotate90', prob=0.5),
    # photometric: each date on its own, independent draws
    dict(type='mmrsfm.ApplyPerDate', transforms=[dict(type='PhotoMetricDistortion')]),
    dict(type='mmrsfm.PackCDInputs'),  # inputs (6, H, W)
]
test_pipeline = [  # whole tiles: the model's test_cfg decides whole or slide inference
    dict(type='mmrsfm.LoadBiTemporalImages'),
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
        data_prefix=dict(img_path_a='train/A', img_path_b='train/B', seg_map_path='train/label'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path_a='val/A', img_path_b='val/B', seg_map_path='val/label'),
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path_a='test/A', img_path_b='test/B', seg_map_path='test/label'),
        pipeline=test_pipeline))
val_evaluator = dict(type='mmrsfm.ChangeDetectionMetric')
test_evaluator = val_evaluator
