# ISPRS Potsdam with all 4 bands (R, G, B and near-infrared) of 4_Ortho_RGBIR, after
#   python tools/dataset_converters/potsdam.py RELEASE data/potsdam_rgbir --modality RGBIR
# which writes 4-band PNGs that LoadImageFromFile(color_type='unchanged') reads as B, G, R, IR (OpenCV
# order; the model's data_preprocessor keeps it: bgr_to_rgb=False, 4 mean/std values). Every transform
# keeps the 4 bands: the geometric ones act on any band count, and mmseg's PhotoMetricDistortion (made for
# 3-band colour images: it returns 3 bands, dropping IR) runs on the B, G, R bands only through
# mmrsfm.ApplyToBands. Splits, labels and whole-tile testing as in ./potsdam.py.
_base_ = './potsdam.py'
data_root = 'data/potsdam_rgbir'
crop_size = (512, 512)
load_all_bands = dict(type='LoadImageFromFile', color_type='unchanged')  # B, G, R, IR
train_pipeline = [
    load_all_bands,
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(512, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='mmrsfm.ApplyToBands', bands=(0, 1, 2), transforms=[dict(type='PhotoMetricDistortion')]),
    dict(type='PackSegInputs')
]
test_pipeline = [
    load_all_bands,
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline))
