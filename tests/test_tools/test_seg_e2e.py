"""Semantic segmentation end to end through tools/train.py and tools/test.py (subprocesses, CPU).

ISPRS Potsdam: official-layout tiles -> converter -> UPerNet/RS-vHeat (tiny) trained on patches and
scored on the whole test tile by sliding-window inference; LoveDA: the official layout read directly,
Rural -> Urban domain split.
"""
import os.path as osp
import pickle

import pytest

from conftest import SINGLE_THREAD, TINY_UPERNET_RS_VHEAT, run_tool, write_child_config
from mmrsfm.datasets.synthetic import make_loveda_official, make_potsdam
from mmrsfm.utils.preflight import load_config
from mmrsfm.utils.tool_setup import parse_test_metrics, save_untrained_checkpoint

pytestmark = pytest.mark.e2e

TILE = 160  # whole test tile, larger than the 64 px training crop / sliding window
POTSDAM_ITERS = 80

# Shrinks the shipped RS-vHeat config (conftest.TINY_UPERNET_RS_VHEAT), on the converted 64 px patches.
POTSDAM_CHILD = "data_root = '{data_root}'" + TINY_UPERNET_RS_VHEAT + """
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
"""

# Shrinks the shipped ResNet-50 Rural -> Urban config: ResNet-18 at 16 base channels, no ImageNet weights,
# 64 px images without mmseg's LoveDA rescaling (tuned for 1024 px tiles).
LOVEDA_CHILD = """
data_root = '{data_root}'
crop_size = (64, 64)
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    decode_head=dict(in_channels=[16, 32, 64, 128], channels=16, pool_scales=(1, 2)),
    auxiliary_head=dict(in_channels=64, channels=16),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(48, 48)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
"""


@pytest.fixture(scope='module')
def potsdam(tmp_path_factory) -> str:
    """Official-layout Potsdam tiles (3 train, 1 test) converted to 64 px patches + the whole test tile."""
    root = tmp_path_factory.mktemp('potsdam')
    make_potsdam(str(root / 'release'), num_train=3, num_val=1, size=TILE, seed=0)
    run_tool(['tools/dataset_converters/potsdam.py', str(root / 'release'), str(root / 'converted'),  # as a user
              '--crop-size', '64', '--stride', '48', '--full-tiles', 'val'])
    return str(root / 'converted')


def test_potsdam_training_beats_untrained_with_slide_inference_on_whole_tiles(potsdam, tmp_path):
    config = write_child_config(str(tmp_path / 'potsdam.py'),
                                'configs/seg/upernet/upernet_rs-vheat-base_4xb4-80k_potsdam-512x512.py',
                                POTSDAM_CHILD.format(data_root=potsdam, iters=POTSDAM_ITERS))
    untrained, trained = str(tmp_path / 'untrained.pth'), str(tmp_path / 'work' / f'iter_{POTSDAM_ITERS}.pth')
    save_untrained_checkpoint(load_config(config), untrained)
    out = run_tool(['tools/test.py', config, untrained, '--work-dir', str(tmp_path / 'test0')], env=SINGLE_THREAD)
    before = parse_test_metrics(out.stdout)

    out = run_tool(['tools/train.py', config, '--work-dir', str(tmp_path / 'work')], env=SINGLE_THREAD).stdout
    assert 'layer-wise lr decay 0.9' in out  # the shipped RS-vHeat optimiser constructor
    preds = str(tmp_path / 'preds.pkl')
    out = run_tool(['tools/test.py', config, trained, '--work-dir', str(tmp_path / 'test1'), '--out', preds],
                   env=SINGLE_THREAD)
    after = parse_test_metrics(out.stdout)
    print(f"Potsdam whole-tile mIoU: untrained {before['mIoU']:.2f} -> trained {after['mIoU']:.2f}")
    assert after['mIoU'] > before['mIoU'] + 20, (before, after)

    with open(preds, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 1  # the one whole test tile, not its patches
    assert osp.basename(results[0]['img_path']) == '2_13.png'
    assert tuple(results[0]['pred_sem_seg']['data'].shape[-2:]) == (TILE, TILE)  # full-size prediction
    assert tuple(results[0]['gt_sem_seg']['data'].shape[-2:]) == (TILE, TILE)


def test_loveda_official_layout_trains_rural_to_urban(tmp_path):
    root = str(tmp_path / 'LoveDA')
    make_loveda_official(root, num_train=4, num_val=3, num_test=0, size=64)
    config = write_child_config(str(tmp_path / 'loveda.py'),
                                'configs/seg/upernet/upernet_r50_4xb4-80k_loveda-rural2urban-512x512.py',
                                LOVEDA_CHILD.format(data_root=root))
    out = run_tool(['tools/train.py', config, '--work-dir', str(tmp_path / 'work')], env=SINGLE_THREAD).stdout
    assert 'LoveDA train/rural: 2 images' in out and 'LoveDA val/urban: 2 images' in out
    assert 'Iter(train) [2/2]' in out and 'mIoU' in out
