# UPerNet on RS-vHeat-B, AIR-PolSAR-Seg (configs/_base_/datasets/air-polsar-seg.py): one 4-band SAR stem
# for the stacked HH, HV, VH, VV amplitudes (in dB). The backbone starts from the paired optical/SAR
# pretraining (configs/pretrain/rs_vheat/freqmask_rs-vheat-base_8xb32-200e_optsar-224.py); of its two
# stems the 1-band SAR one is taken (checkpoint_stem='sar') and adapted to 4 bands on load (mean kernel
# per band, logged). The RS-vHeat paper reports 57.46 mIoU; its decoder settings are not published.
_base_ = [
    '../../_base_/models/upernet_rs-vheat-base.py', '../../_base_/datasets/air-polsar-seg.py',
    'mmseg::_base_/default_runtime.py', '../../_base_/schedules/adamw-layer-decay_80k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    # dB statistics per band (HH, HV, VH, VV): a first guess (co-pol ~10 dB above cross-pol), not
    # measured on the release; replace with the train_set mean/std after SARToDecibels.
    data_preprocessor=dict(size=crop_size, mean=[50.0, 40.0, 40.0, 50.0], std=[10.0, 10.0, 10.0, 10.0],
                           bgr_to_rgb=False),
    backbone=dict(
        in_channels=4,
        checkpoint_stem='sar',
        init_cfg=dict(type='Pretrained', prefix='backbone.',
                      checkpoint='work_dirs/freqmask_rs-vheat-base_8xb32-200e_optsar-224/epoch_200.pth')),
    decode_head=dict(num_classes=6),
    auxiliary_head=dict(num_classes=6),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
