# SpectralGPT-B (from SpectralGPT+) fine-tuned on EuroSAT (13-band release, 12 bands used, 128 x 128), the
# official recipe: mixup 0.8 / cutmix 1.0 with label smoothing 0.1. Reported OA 99.21 (SpectralGPT+).
# Random erasing (reprob 0.25 in the official command) is left out: timm's pixel-mode erasing has no
# mmpretrain equivalent for 12-band inputs.
_base_ = [
    '../../_base_/models/cls_spectralgpt-base.py', '../../_base_/datasets/eurosat-ms.py',
    '../../_base_/schedules/cls_spectralgpt_2xb16-accum8-150e.py'
]
num_classes = {{_base_.num_classes}}
model = dict(
    data_preprocessor=dict(mean={{_base_.band_mean}}, std={{_base_.band_std}}, num_classes=num_classes),
    head=dict(num_classes=num_classes),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
