"""SpectralGPT end to end through tools/train.py and tools/test.py (subprocesses, CPU), on generated
multispectral GeoTIFFs in the real layouts: SpectralMAE pretraining on a Sentinel-2 folder, UPerNet on
SegMunich (train, then test) and the Siamese OSCD config (train + test). The shipped configs are shrunk by
test-only child configs: a 2-block SpectralGPT, 32-px images, single-process loaders."""
import os.path as osp
import pickle
import re

import pytest

from conftest import SINGLE_THREAD, run_tool, write_child_config
from mmrsfm.utils.tool_setup import parse_test_metrics

pytestmark = pytest.mark.e2e

PRETRAIN_CFG = 'configs/pretrain/spectralgpt/spectralmae_spectralgpt-base_8xb16-200e_s2-96.py'
SEG_CFG = 'configs/seg/spectralgpt/upernet_spectralgpt-base_4xb32-250e_segmunich-128x128.py'
CD_CFG = 'configs/change_det/spectralgpt/siamese-upernet_spectralgpt-base_4xb32-9k_oscd-128.py'

TINY_ARCH = "dict(_delete_=True, embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)"
TINY_PYRAMID = "dict(channels=(8, 16, 16, 16), mid_channels=(16, 16, 16, 16), norm_groups=4, dropout=0.0)"

PRETRAIN_CHILD = f"""
data_root = {{root!r}}
crop_size = (32, 32)
model = dict(data_preprocessor=dict(size=crop_size),
             backbone=dict(arch={TINY_ARCH}, img_size=crop_size),
             decoder_embed_dims=32, decoder_depth=1, decoder_num_heads=2)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root,
    pipeline=[
        dict(type='mmrsfm.LoadMultiBandImage', drop_bands=('B10', ), fill_value='mean'),
        dict(type='mmrsfm.RandomResizedCrop', size=crop_size, scale=(0.5, 1.0)),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackSegInputs', meta_keys=('img_path', 'ori_shape', 'img_shape', 'band_names')),
    ]))
optim_wrapper = dict(optimizer=dict(lr=2e-3), accumulative_counts=1)
param_scheduler = []
train_cfg = dict(max_epochs={{epochs}})
default_hooks = dict(checkpoint=dict(interval={{epochs}}), logger=dict(interval=1))
randomness = dict(seed=0)
"""

SEG_CHILD = f"""
data_root = {{root!r}}
crop_size = (32, 32)
model = dict(data_preprocessor=dict(size=crop_size),
             backbone=dict(arch={TINY_ARCH}, img_size=crop_size, pyramid_cfg={TINY_PYRAMID}, drop_path_rate=0.0,
                           init_cfg=None),
             decode_head=dict(in_channels=[8, 16, 16, 16], channels=16, pool_scales=(1, 2)))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=4e-3, weight_decay=0.0))
param_scheduler = []
train_cfg = dict(max_epochs={{epochs}}, val_interval={{val_interval}})
default_hooks = dict(checkpoint=dict(interval={{epochs}}, save_best=None), logger=dict(interval=4))
randomness = dict(seed=0)
"""

CD_CHILD = f"""
data_root = {{root!r}}
model = dict(data_preprocessor=dict(size=(32, 32)),
             backbone=dict(arch={TINY_ARCH}, img_size=32, pyramid_cfg={TINY_PYRAMID}, init_cfg=None),
             decode_head=dict(in_channels=[8, 16, 16, 16], channels=16, pool_scales=(1, 2)),
             test_cfg=dict(crop_size=(32, 32), stride=(24, 24)))
train_pipeline = [
    dict(type='mmrsfm.LoadBiTemporalImages', to_float32=True),
    dict(type='mmrsfm.LoadCDAnnotations'),
    dict(type='RandomCrop', crop_size=(32, 32)),
    dict(type='mmrsfm.PackCDInputs'),
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2, save_best=None), logger=dict(interval=1))
randomness = dict(seed=0)
"""


def _losses(log: str, key: str) -> list:
    return [float(v) for v in re.findall(rf'\b{key}: ([0-9.]+)', log)]


def test_spectral_mae_pretraining_loss_falls_on_s2_folder(tmp_path):
    from mmrsfm.datasets.synthetic import make_s2_folder
    root = str(tmp_path / 's2')
    make_s2_folder(root, num_train=8, size=40, seed=0)
    epochs = 6  # 2 iterations each
    cfg = write_child_config(str(tmp_path / 'pretrain.py'), PRETRAIN_CFG,
                             PRETRAIN_CHILD.format(root=root + '/', epochs=epochs))
    out = run_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'work')], env=SINGLE_THREAD).stdout
    assert osp.isfile(tmp_path / 'work' / f'epoch_{epochs}.pth')
    masked, spectral = _losses(out, 'loss_masked'), _losses(out, 'loss_spectral_sum')
    print(f'SpectralMAE losses: masked {masked[0]:.4f} -> {masked[-1]:.4f}, spectral-sum {spectral[0]:.4f} -> '
          f'{spectral[-1]:.4f}')
    assert len(masked) == len(spectral) == 2 * epochs, out[-3000:]
    # min-max inputs in [0, 1]: both reconstruction terms drop well below their start
    assert sum(masked[-2:]) < 0.7 * sum(masked[:2]), masked
    assert sum(spectral[-2:]) < 0.7 * sum(spectral[:2]), spectral


def test_segmunich_trains_and_tests_through_the_tools(tmp_path):
    root = str(tmp_path / 'SegMunich')
    run_tool(['-m', 'mmrsfm.datasets.synthetic', 'segmunich', root, '--num-train', '16', '--num-val', '4',
              '--size', '32'])  # as a user would
    epochs = 20  # 4 iterations each
    cfg = write_child_config(str(tmp_path / 'seg.py'), SEG_CFG,
                             SEG_CHILD.format(root=root + '/', epochs=epochs, val_interval=epochs))
    out = run_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'work')], env=SINGLE_THREAD).stdout
    assert 'layer-wise lr decay 0.75' in out and f'Epoch(train) [{epochs}][4/4]' in out, out[-3000:]
    losses = _losses(out, 'decode.loss_ce')
    print(f'SegMunich synthetic train CE: {losses[0]:.3f} -> {losses[-1]:.3f}')
    assert len(losses) == epochs and losses[-1] < 0.85 * losses[0], losses  # starts near ln 13
    preds = str(tmp_path / 'preds.pkl')
    out = run_tool(['tools/test.py', cfg, str(tmp_path / 'work' / f'epoch_{epochs}.pth'), '--work-dir',
                    str(tmp_path / 'test'), '--out', preds], env=SINGLE_THREAD).stdout
    assert 0.0 <= parse_test_metrics(out)['mIoU'] <= 100.0
    with open(preds, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 4  # the val split
    pred = results[0]['pred_sem_seg']['data']
    assert tuple(pred.shape[-2:]) == (32, 32) and 0 <= int(pred.min()) and int(pred.max()) < 13


def test_oscd_12_bands_train_and_test(tmp_path):
    from mmrsfm.datasets.synthetic import make_oscd
    root = str(tmp_path / 'oscd')
    make_oscd(root, num_train=2, num_val=1, size=40, seed=0)
    cfg = write_child_config(str(tmp_path / 'cd.py'), CD_CFG, CD_CHILD.format(root=root + '/'))
    # OSCD's 13 per-band files -> the config's 12 bands (no B10); SpectralGPT's Linear(4 groups -> 1) fusion
    # raises on any other band count, so a finished run shows the 12 bands arrived
    out = run_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'work')], env=SINGLE_THREAD).stdout
    assert 'Saving checkpoint at 2 iterations' in out, out[-3000:]
    metrics = parse_test_metrics(run_tool(['tools/test.py', cfg, str(tmp_path / 'work' / 'iter_2.pth'),
                                           '--work-dir', str(tmp_path / 'test')], env=SINGLE_THREAD).stdout)
    assert 0.0 <= metrics['cd/F1'] <= 1.0 and 0.0 <= metrics['cd/OA'] <= 1.0
