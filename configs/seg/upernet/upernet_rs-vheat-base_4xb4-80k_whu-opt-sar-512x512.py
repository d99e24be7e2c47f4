# UPerNet on RS-vHeat-B with optical + SAR fusion, WHU-OPT-SAR (configs/_base_/datasets/whu-opt-sar.py).
# mmrsfm.MultiModalRSvHeat splits the stacked 5-band input into optical (4) and SAR (1), runs one stem
# per modality (patch_embed_opt / patch_embed_sar, the paired pretraining's), fuses the stem maps
# (fusion='concat': concatenation + 1x1 conv, initialised to their mean; 'mean' and 'gated' are the other
# options) and runs the shared stages. Single-modality ablations on the same data:
#   --cfg-options model.backbone.modalities="('opt',)"   (or "('sar',)")
# The backbone starts from the paired optical/SAR pretraining
# (configs/pretrain/rs_vheat/freqmask_rs-vheat-base_8xb32-200e_optsar-224.py; its RGB optical stem is
# adapted to 4 bands on load, logged). The RS-vHeat paper's own fusion is not published.
_base_ = [
    '../../_base_/models/upernet_rs-vheat-base.py', '../../_base_/datasets/whu-opt-sar.py',
    'mmseg::_base_/default_runtime.py', '../../_base_/schedules/adamw-layer-decay_80k.py'
]
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    # Bands: optical R, G, B, NIR, then SAR, all 8 bit. Normalised as the paired pretraining (ImageNet
    # R, G, B; NIR the mean of those; SAR 127.5 / 64), not tuned to WHU-OPT-SAR.
    data_preprocessor=dict(
        size=crop_size, mean=[123.675, 116.28, 103.53, 114.5, 127.5], std=[58.395, 57.12, 57.375, 57.6, 64.0],
        bgr_to_rgb=False),
    backbone=dict(
        type='mmrsfm.MultiModalRSvHeat',
        in_channels=dict(opt=4, sar=1),
        fusion='concat',
        init_cfg=dict(type='Pretrained', prefix='backbone.',
                      checkpoint='work_dirs/freqmask_rs-vheat-base_8xb32-200e_optsar-224/epoch_200.pth')),
    decode_head=dict(num_classes=7),
    auxiliary_head=dict(num_classes=7),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
