# ISPRS Potsdam after `python tools/dataset_converters/potsdam.py RELEASE data/potsdam` (mmseg's own
# PotsdamDataset layout; 6 classes incl. clutter, eroded class boundaries ignored): 512x512 patches of the
# 24 training tiles (img_dir/train) and of the 14 benchmark test tiles (img_dir/val) for training and
# validation, and the 14 whole 6000x6000 test tiles (img_dir/val_tiles) for tools/test.py. Top configs
# set model.test_cfg=dict(mode='slide', ...) so a whole tile is scored window by window.
_base_ = 'mmseg::_base_/datasets/potsdam.py'
# Scored at the native 5 cm resolution (mmseg's val pipeline resizes to 512, which shrinks whole tiles).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(
        data_prefix=dict(img_path='img_dir/val_tiles', seg_map_path='ann_dir/val_tiles'),
        pipeline=test_pipeline))
