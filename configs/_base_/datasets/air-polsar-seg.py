# AIR-PolSAR-Seg (GF-3 quad-pol amplitudes HH, HV, VH, VV; 512 px patches; 6 classes; RGB colour labels),
# read in the release layout: data_root/train_set, data_root/test_set with <patch>_{HH,HV,VH,VV}.tiff and
# <patch>_gt.png (mmrsfm.AIRPolSARSegDataset documents the layout, colours and what was verified).
# mmrsfm.LoadStackedModalities stacks the four polarisations as 4 bands (HH, HV, VH, VV), so geometric
# transforms act on all of them and on the label identically; mmrsfm.SARToDecibels turns the amplitudes
# into dB (20 log10, clipped to 0..80 dB) so the data preprocessor's per-band mean/std act on dB values.
dataset_type = 'mmrsfm.AIRPolSARSegDataset'
data_root = 'data/AIR-PolSAR-Seg'
crop_size = (512, 512)
load_patch = [
    dict(type='mmrsfm.LoadStackedModalities', bands=dict(HH=1, HV=1, VH=1, VV=1)),
    dict(type='mmrsfm.LoadColourCodedAnnotations'),
    dict(type='mmrsfm.SARToDecibels', amplitude=True, clip=(0.0, 80.0)),
]
train_pipeline = load_patch + [
    dict(type='RandomResize', scale=(512, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = load_patch + [dict(type='PackSegInputs')]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix=dict(img_path='train_set'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix=dict(img_path='test_set'),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
