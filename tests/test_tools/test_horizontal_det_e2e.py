"""Horizontal detection end to end: DIOR (horizontal boxes) and SAR-AIRcraft-1.0 (one band) in their
released layouts. For each, the untrained model is scored by the config's own test loop (in this process),
then tools/train.py trains on train + val and its final validation (VOCMetric mAP50 on the test split)
must beat it. CPU, shrunk Faster R-CNN (ResNet-18 at 16 base channels, narrow heads), 128 px images; the
two single-threaded trainings run side by side, one per core."""
import os
import re

import pytest

from conftest import SINGLE_THREAD, finish_tool, start_tool, write_child_config

pytestmark = pytest.mark.e2e

DET_DIR = 'configs/det/faster_rcnn/'
ITERS = 30

# The shipped configs' Faster R-CNN at a size that trains on CPU in seconds: ResNet-18 at 16 base
# channels from scratch, narrow neck and heads, fewer proposals, 128 px.
SMALL = """
model = dict(
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=32),
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=32), bbox_head=dict(in_channels=32, fc_out_channels=128)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=200), rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=200), rcnn=dict(max_per_img=100)))
"""


def _child_config(path: str, config: str, data_root: str, load: str, train_subdir: str) -> str:
    """The shipped ``config`` shrunk, on ``data_root``, trained for ITERS iterations then validated."""
    train_sub = f", img_subdir='{train_subdir}'" if train_subdir else ''
    return write_child_config(path, DET_DIR + config, SMALL + f"""
data_root = '{data_root}/'
train_pipeline = [
    dict(type='LoadImageFromFile'{load}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'{load}),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
split = dict(type={{{{_base_.dataset_type}}}}, data_root=data_root, filter_cfg=dict(filter_empty_gt=True),
             pipeline=train_pipeline{train_sub})
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(datasets=[dict(split, ann_file='ImageSets/Main/train.txt'),
                                               dict(split, ann_file='ImageSets/Main/val.txt')]))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={ITERS}, val_interval={ITERS})
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10)]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(by_epoch=False, interval={ITERS}))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)  # training starts from the weights of save_untrained_checkpoint(seed=0)
# From scratch, AdamW converges far faster than the SGD schedule tuned for ImageNet-initialised R50.
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05))
""")


def _untrained_map(cfg_path: str, work_dir: str) -> float:
    """mAP50 of the freshly initialised model (seed 0, as training starts), through the config's test
    loop in this process (a tools/test.py run would cost another interpreter start-up)."""
    from mmengine.runner import Runner

    from mmrsfm.utils.preflight import load_config
    from mmrsfm.utils.tool_setup import save_untrained_checkpoint
    cfg = load_config(cfg_path)
    os.makedirs(work_dir, exist_ok=True)
    save_untrained_checkpoint(cfg, os.path.join(work_dir, 'untrained.pth'))
    cfg.merge_from_dict(dict(work_dir=work_dir, load_from=os.path.join(work_dir, 'untrained.pth')))
    return Runner.from_cfg(cfg).test()['pascal_voc/mAP']


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """{dataset: (untrained mAP50, tools/train.py output)} for DIOR and SAR-AIRcraft-1.0."""
    from mmrsfm.datasets.synthetic import make_dior_hbb, make_sar_aircraft
    tmp = tmp_path_factory.mktemp('hdet')
    jobs = {}
    for name, make, config, load, train_subdir in (
            ('dior', make_dior_hbb, 'faster-rcnn_r50_fpn_1xb2-1x_dior-800x800.py', '', 'JPEGImages-trainval'),
            ('sar', make_sar_aircraft, 'faster-rcnn_r50_fpn_1xb2-1x_sar-aircraft-800x800.py',
             ", color_type='grayscale'", '')):
        root, work = str(tmp / name / 'data'), str(tmp / name)
        make(root, num_train=48, num_val=16, num_test=8, seed=0)
        cfg = _child_config(os.path.join(work, 'cfg.py'), config, root, load, train_subdir)
        jobs[name] = (cfg, work, _untrained_map(cfg, os.path.join(work, 'untrained')))
    procs = {name: start_tool(['tools/train.py', cfg, '--work-dir', os.path.join(work, 'train')], env=SINGLE_THREAD)
             for name, (cfg, work, _) in jobs.items()}
    out = {name: finish_tool(proc, timeout=600) for name, proc in procs.items()}
    return {name: (jobs[name][2], out[name]) for name in jobs}


def _final_map(out: str) -> float:
    assert f'Iter(train) [{ITERS}/{ITERS}]' in out
    return float(re.findall(r'Iter\(val\) \[\d+/\d+\]\s+pascal_voc/mAP: ([\d.]+)', out)[-1])


def test_dior_faster_rcnn_learns_through_the_tools(runs):
    """The DIOR R50 config: train + val (JPEGImages-trainval) -> test (JPEGImages-test)."""
    before, out = runs['dior']
    after = _final_map(out)
    assert "type='mmrsfm.DIORHBBDataset'" in out and "img_subdir='JPEGImages-test'" in out
    print(f'DIOR (HBB) test split: VOC mAP50 untrained {before:.3f} -> {ITERS} iterations {after:.3f}')
    assert after > before + 0.3


def test_sar_aircraft_one_band_faster_rcnn_learns_through_the_tools(runs):
    """The SAR-AIRcraft-1.0 R50 config: grey images, one input band (in_channels=1), train + val -> test."""
    before, out = runs['sar']
    after = _final_map(out)
    assert "type='mmrsfm.SARAircraftDataset'" in out and 'in_channels=1' in out and "color_type='grayscale'" in out
    print(f'SAR-AIRcraft-1.0 test split: VOC mAP50 untrained {before:.3f} -> {ITERS} iterations {after:.3f}')
    assert after > before + 0.3
