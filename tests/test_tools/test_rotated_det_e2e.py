"""Rotated detection end to end through the tools: DOTA v2.0 (raw release -> split -> train -> merged
full-image results) and DIOR-R (released layout -> train -> test), on CPU with shrunk models."""
import os
import re

import numpy as np
import pytest

from conftest import DEMO_CONFIG, demo_options, run_tool, write_child_config
from mmrsfm.utils.tool_setup import parse_test_metrics

pytestmark = pytest.mark.e2e

RCNN_DIR = 'configs/rotated_det/oriented_rcnn/'
VHEAT_DOTA = 'oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_dotav2-ss-1024x1024.py'
VHEAT_DOTA_TEST = 'oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_dotav2-ss-test-1024x1024.py'
R50_DIOR = 'oriented-rcnn-le90_r50_fpn_1xb2-1x_dior-800x800.py'
CLASSES = ('plane', 'ship', 'storage-tank')

# Oriented R-CNN with narrow necks and heads and fewer proposals: the shipped configs' structure at a
# size that trains on CPU in seconds. Prefixed by a `backbone=dict(...)` line and closed by `)`.
SMALL_HEADS = """
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=32),
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=32), bbox_head=dict(in_channels=32, fc_out_channels=128)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=200), rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=200), rcnn=dict(max_per_img=100))"""
PIPELINES_128 = """
train_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.Resize', scale=(128, 128), keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.75, direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='mmdet.PackDetInputs')
]
val_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(128, 128), keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
test_pipeline = [val_pipeline[0], val_pipeline[1], val_pipeline[4]]
"""
NO_VAL = ['val_cfg=None', 'val_dataloader=None', 'val_evaluator=None']


def short_run(max_iters: int) -> str:
    """Config lines for an iteration-based run checkpointed at its end, logging every 10 iterations."""
    return f"""
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={max_iters}, val_interval={max_iters})
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10)]
default_hooks = dict(logger=dict(interval={min(10, max_iters)}), checkpoint=dict(by_epoch=False, interval={max_iters}))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)  # the same initial weights as save_untrained_checkpoint(seed=0), repeatable runs
"""


@pytest.fixture(scope='module')
def dota(tmp_path_factory):
    """The raw DOTA release fixture and its patches: train (single scale), val (two scales, every
    patch; cut by the command-line tool) and test (no labels)."""
    from mmrsfm.datasets.dota_split import split_dota
    from mmrsfm.datasets.synthetic import make_dota_raw
    root = tmp_path_factory.mktemp('dota')
    raw, split = str(root / 'raw'), str(root / 'split')
    make_dota_raw(raw, num_train=10, num_val=2, num_test=1, size=320, seed=7)
    out = run_tool(['tools/dataset_converters/dota_split.py', '--img-dirs', f'{raw}/val/images', '--ann-dirs',
                    f'{raw}/val/labelTxt', '--out-dir', f'{split}/val', '--patch-size', '128', '--gap', '32',
                    '--rates', '0.5', '1.0', '--save-empty']).stdout
    assert 'dota-split images=2 ' in out
    split_dota(f'{raw}/train/images', f'{split}/train', f'{raw}/train/labelTxt', patch_size=128, gap=32, nproc=2)
    split_dota(f'{raw}/test/images', f'{split}/test', patch_size=128, gap=32)
    return raw, split


def test_dota_round_trip_to_task1_and_full_image_map(dota, tmp_path):
    """Raw release -> split -> tools/train.py -> tools/test.py with DOTAMergeMetric -> Task1 + mAP."""
    raw, split = dota
    task1 = str(tmp_path / 'Task1')
    # The demo Rotated FCOS reads {train,val}/{images,annfiles}; its test run merges the two-scale val
    # patches into full images and scores them against the release's labelTxt. A few iterations do not
    # detect anything above the default score threshold, so every box is kept to exercise the merge.
    cfg = write_child_config(str(tmp_path / 'fcos_merge.py'), DEMO_CONFIG, f"""
model = dict(test_cfg=dict(score_thr=0.0))
test_evaluator = dict(_delete_=True, type='mmrsfm.DOTAMergeMetric', outfile_prefix='{task1}',
                      ann_dir='{raw}/val/labelTxt', nproc=1)
""")
    opts = demo_options(split, 4)
    run_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'work')] + opts + NO_VAL)
    out = run_tool(['tools/test.py', cfg, str(tmp_path / 'work' / 'iter_4.pth'), '--work-dir',
                    str(tmp_path / 'test')] + opts).stdout
    metrics = parse_test_metrics(out)
    assert set(metrics) == {'dota_full/mAP', 'dota_full/AP50'} and 0 <= metrics['dota_full/mAP'] <= 1
    assert 'DOTA Task1 files of 2 full images' in out  # P0010, P0011 from their 0.5x and 1x patches

    from mmrsfm.evaluation.dota_task1 import read_task1
    assert sorted(os.listdir(task1)) == ['Task1.zip'] + [f'Task1_{c}.txt' for c in CLASSES]
    dets = read_task1(task1, CLASSES)
    assert sorted(dets) == ['P0010', 'P0011']
    corners = np.concatenate([d[:, :8] for per_class in dets.values() for d in per_class])
    # boxes are in full-image pixels (the images are 192..320 px, the patches 128 px)
    assert corners.max() > 160 and len(corners) > 10


SMALL_VHEAT = ("    backbone=dict(arch=dict(_delete_=True, embed_dims=16, depths=(1, 1, 1, 1), post_norm=False, "
               "layer_scale=None, spatial_correction=True), img_size=128, drop_path_rate=0.0, init_cfg=None),")


def test_oriented_rcnn_rs_vheat_trains_and_writes_a_dotav2_submission(dota, tmp_path):
    """The RS-vHeat DOTA v2.0 config (tiny arch) trains 2 iterations, then its test-split variant
    writes the Task1 submission (format only: the test split has no labels)."""
    raw, split = dota
    shrink = f"""
data_root = '{split}/'
model = dict(
{SMALL_VHEAT}{SMALL_HEADS})
{PIPELINES_128}"""
    train_config = write_child_config(str(tmp_path / 'train.py'), RCNN_DIR + VHEAT_DOTA, shrink + f"""
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, ann_file='train/annfiles/',
                                     data_prefix=dict(img_path='train/images/'), pipeline=train_pipeline))
{short_run(2)}""")
    out = run_tool(['tools/train.py', train_config, '--work-dir', str(tmp_path / 'work'),
                    '--cfg-options'] + NO_VAL).stdout
    assert 'Iter(train) [2/2]' in out and 'layer-wise lr decay 0.9' in out

    task1 = str(tmp_path / 'submission')
    test_config = write_child_config(str(tmp_path / 'test.py'), RCNN_DIR + VHEAT_DOTA_TEST, shrink + f"""
test_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                       dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_evaluator = dict(outfile_prefix='{task1}')
""")
    out = run_tool(['tools/test.py', test_config, str(tmp_path / 'work' / 'iter_2.pth'), '--work-dir',
                    str(tmp_path / 'test')]).stdout
    assert 'mmrsfm-test-metrics' in out and 'DOTA Task1 files of' in out
    from mmrsfm.datasets.dota_split import DOTA_V2_CLASSES
    assert sorted(os.listdir(task1)) == sorted(['submission.zip'] + [f'Task1_{c}.txt' for c in DOTA_V2_CLASSES])


def test_dior_r_oriented_rcnn_learns_through_the_tools(tmp_path):
    """Oriented R-CNN (the DIOR-R config, ResNet-18 at 16 base channels) on the released DIOR-R layout:
    tools/test.py on the untrained model, then tools/train.py, whose final validation (the config's
    DOTAVOCMetric on the test split) must beat it."""
    from mmrsfm.datasets.synthetic import make_dior_r
    from mmrsfm.utils.preflight import load_config
    from mmrsfm.utils.tool_setup import save_untrained_checkpoint
    root = str(tmp_path / 'DIOR')
    make_dior_r(root, num_train=160, num_val=32, num_test=16, seed=0)
    iters = 80
    cfg = write_child_config(str(tmp_path / 'dior.py'), RCNN_DIR + R50_DIOR, f"""
data_root = '{root}/'
model = dict(
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1, norm_eval=False, init_cfg=None),{SMALL_HEADS})
{PIPELINES_128}
split = dict(type='DIORDataset', data_root=data_root, data_prefix=dict(img_path='JPEGImages-trainval'),
             filter_cfg=dict(filter_empty_gt=True), pipeline=train_pipeline)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(datasets=[dict(split, ann_file='ImageSets/Main/train.txt'),
                                               dict(split, ann_file='ImageSets/Main/val.txt')]))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader
{short_run(iters)}
# From scratch, AdamW converges far faster than the SGD schedule tuned for ImageNet-initialised R50.
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, weight_decay=0.05))
""")
    untrained = str(tmp_path / 'untrained.pth')
    save_untrained_checkpoint(load_config(cfg), untrained)
    out = run_tool(['tools/test.py', cfg, untrained, '--work-dir', str(tmp_path / 'test')]).stdout
    before = parse_test_metrics(out)['dota/mAP']
    assert 'Iter(test) [2/2]' in out  # the 16 test-split images
    out = run_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'work')]).stdout
    assert f'Iter(train) [{iters}/{iters}]' in out and "type='DIORDataset'" in out
    after = float(re.findall(r'Iter\(val\) \[2/2\]\s+dota/mAP: ([\d.]+)', out)[-1])
    print(f'DIOR-R test split: dota/mAP untrained {before:.3f} -> {iters} iterations {after:.3f}')
    assert after > before + 0.3
