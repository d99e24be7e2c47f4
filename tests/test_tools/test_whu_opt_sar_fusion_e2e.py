"""WHU-OPT-SAR end to end (CPU): release-layout tiles -> the converter (``convert_whu_opt_sar``) -> the
shipped UPerNet / RS-vHeat fusion config (shrunk) trained through tools/train.py three times: fused
optical + SAR, optical only and SAR only (``model.backbone.modalities``), each scored on the whole
validation tiles by sliding-window inference.

The synthetic tiles (:mod:`mmrsfm.datasets.synthetic.whu_opt_sar`) show four classes only in the optical
image and three only in the SAR image, so each single-modality model must confuse a group of classes
and the fused one need not: the fused mIoU must beat both by MARGIN points. The three single-threaded
trainings run side by side.
"""
import re

import pytest

from conftest import SINGLE_THREAD, finish_tool, start_tool, write_child_config
from mmrsfm.datasets.synthetic import make_whu_opt_sar

pytestmark = pytest.mark.e2e

CONFIG = 'configs/seg/upernet/upernet_rs-vheat-base_4xb4-80k_whu-opt-sar-512x512.py'
ITERS = 40
MARGIN = 10.0  # mIoU points

# Tiny RS-vHeat and heads, 64 px patches, a short fixed-lr schedule, whole-tile validation.
CHILD = """
data_root = '{data_root}'
crop_size = (64, 64)
randomness = dict(seed=0)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch=dict(_delete_=True, embed_dims=16, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None,
                            spatial_correction=True), img_size=64, drop_path_rate=0.0, init_cfg=None,
                  modalities={modalities}),
    decode_head=dict(in_channels=[16, 32, 64, 128], channels=32, pool_scales=(1, 2)),
    auxiliary_head=dict(in_channels=64, channels=16),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(48, 48)))
train_pipeline = [
    dict(type='mmrsfm.LoadStackedModalities', bands=dict(opt=4, sar=1)),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, data_prefix=dict(img_path='val_tiles')))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=3e-3, weight_decay=0.0))
param_scheduler = []
train_cfg = dict(max_iters={iters}, val_interval={iters})
default_hooks = dict(checkpoint=dict(interval={iters}), logger=dict(interval=20))
"""

RUNS = {'fused': None, 'optical': ('opt', ), 'sar': ('sar', )}


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """{run: tools/train.py output} of the three runs on one converted synthetic release."""
    root = tmp_path_factory.mktemp('whu_opt_sar')
    make_whu_opt_sar(str(root / 'release'), num_train=8, num_val=2, size=96, seed=0)  # 10 tiles of 96 x 144
    # The converter in this process (tools/dataset_converters/whu_opt_sar.py is a thin CLI over it, tested
    # in tests/test_datasets/test_whu_opt_sar.py): another interpreter start costs ~10 s on a busy CPU.
    from mmrsfm.datasets import convert_whu_opt_sar
    counts = convert_whu_opt_sar(str(root / 'release'), str(root / 'data'), crop_size=64, stride=32)
    assert counts == dict(train_tiles=8, val_tiles=2, train_patches=64, val_patches=16), counts
    procs = {}
    for name, modalities in RUNS.items():
        cfg = write_child_config(str(root / f'{name}.py'), CONFIG,
                                 CHILD.format(data_root=root / 'data', modalities=modalities, iters=ITERS))
        procs[name] = start_tool(['tools/train.py', cfg, '--work-dir', str(root / name)], env=SINGLE_THREAD)
    return {name: finish_tool(proc, timeout=600) for name, proc in procs.items()}


def _miou(out: str) -> float:
    assert f'Iter(train) [{ITERS}/{ITERS}]' in out
    return float(re.findall(r'Iter\(val\) \[\d+/\d+\].*?mIoU: ([\d.]+)', out)[-1])


def test_fusion_beats_each_single_modality(trained):
    miou = {name: _miou(out) for name, out in trained.items()}
    print(f"WHU-OPT-SAR (synthetic) whole-tile mIoU after {ITERS} iterations: fused {miou['fused']:.2f}, "
          f"optical only {miou['optical']:.2f}, SAR only {miou['sar']:.2f}")
    assert "type='mmrsfm.MultiModalRSvHeat'" in trained['fused'] and "fusion='concat'" in trained['fused']
    assert 'WHU-OPT-SAR' in trained['fused'] and 'samples' in trained['fused']  # the dataset logs its counts
    assert miou['fused'] > miou['optical'] + MARGIN, miou
    assert miou['fused'] > miou['sar'] + MARGIN, miou
