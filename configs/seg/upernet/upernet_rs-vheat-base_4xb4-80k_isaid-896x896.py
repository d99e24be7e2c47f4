# UPerNet on RS-vHeat-B, iSAID (16 classes incl. background): mmseg's iSAIDDataset and dataset config
# (896 px patches, 384 px overlap) on data written by
#   python tools/dataset_converters/isaid.py /path/to/iSAID data/iSAID
# (mmseg's own converter writes wrong labels with Pillow >= 13; see mmrsfm/datasets/converters/isaid.py).
# The RS-vHeat paper reports 68.72 mIoU; its decoder settings are not published.
_base_ = [
    '../../_base_/models/upernet_rs-vheat-base.py', 'mmseg::_base_/datasets/isaid.py',
    'mmseg::_base_/default_runtime.py', '../../_base_/schedules/adamw-layer-decay_80k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (896, 896)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(img_size=896),
    decode_head=dict(num_classes=16),
    auxiliary_head=dict(num_classes=16),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(512, 512)))
