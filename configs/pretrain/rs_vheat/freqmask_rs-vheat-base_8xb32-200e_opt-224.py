# Optical-only RS-vHeat pretraining (no cross-modal term): one stem, one decoder.
_base_ = ['./freqmask_rs-vheat-base_8xb32-200e_optsar-224.py']
modalities = ('opt', )
model = dict(
    data_preprocessor=dict(mean=dict(_delete_=True, opt=[123.675, 116.28, 103.53]),
                           std=dict(_delete_=True, opt=[58.395, 57.12, 57.375])),
    backbone=dict(in_channels=dict(_delete_=True, opt=3)),
    in_channels=dict(_delete_=True, opt=3))
train_dataloader = dict(dataset=dict(modalities=modalities, data_prefix=dict(_delete_=True, opt='optical/')))
