"""Instance segmentation end to end through tools/train.py and tools/test.py (subprocesses, CPU).

Each dataset is written in its official release layout and converted by mmrsfm's converters: WHU
building (raster masks -> COCO instances) is overfit by a small Mask R-CNN; SSDD (coco_style as
released) and NWPU VHR-10 (instance-mask json -> train/val) train Mask R-CNN on a tiny RS-vHeat for
two iterations and are evaluated with COCO bbox + segm mAP.
"""
import os.path as osp

import pytest

from conftest import SINGLE_THREAD, finish_tool, run_tool, start_tool, write_child_config
from mmrsfm.datasets.synthetic import make_nwpu_vhr10, make_ssdd, make_whu_building
from mmrsfm.utils.preflight import load_config
from mmrsfm.utils.tool_setup import parse_test_metrics, save_untrained_checkpoint

pytestmark = pytest.mark.e2e

WHU_ITERS = 50
CONFIGS = 'configs/ins_seg/mask_rcnn/'

# Shrinks a shipped Mask R-CNN config: 128 px images, 32-channel FPN and heads, num_workers=0, a short
# fixed-lr AdamW iteration schedule; {backbone} shrinks ResNet-50 or RS-vHeat.
CHILD = """
data_root = '{data_root}/'
img_scale = (128, 128)
randomness = dict(seed=0)
model = dict(
    backbone={backbone},
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=32),
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=32),
        bbox_head=dict(in_channels=32, fc_out_channels=64),
        mask_roi_extractor=dict(out_channels=32),
        mask_head=dict(in_channels=32, conv_out_channels=32)),
    # a few objects per image: far fewer sampled anchors, proposals and RoIs than COCO's defaults
    train_cfg=dict(rpn=dict(sampler=dict(num=64)), rpn_proposal=dict(nms_pre=200, max_per_img=100),
                   rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100), rcnn=dict(max_per_img=20)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(num_workers=0, persistent_workers=False,
                       dataset=dict(data_root=data_root, pipeline=test_pipeline))
val_evaluator = dict(ann_file=data_root + '{val_ann}')
test_evaluator = dict(ann_file=data_root + '{test_ann}')
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.0))
param_scheduler = []
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={iters}, val_interval={iters})
default_hooks = dict(checkpoint=dict(by_epoch=False, interval={iters}), logger=dict(interval=10))
log_processor = dict(by_epoch=False)
"""
RESNET = 'dict(depth=18, base_channels=16, init_cfg=None)'
VHEAT = ('dict(arch=dict(_delete_=True, embed_dims=16, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None, '
         'spatial_correction=True), img_size=128, drop_path_rate=0.0, init_cfg=None)')


def child(tmp_path, name: str, base: str, **fields) -> str:
    return write_child_config(str(tmp_path / f'{name}.py'), CONFIGS + base, CHILD.format(**fields))


def test_whu_building_training_beats_untrained(tmp_path):
    root = str(tmp_path / 'whu-building')
    make_whu_building(root, num_train=16, num_val=4, num_test=4, size=128, seed=0)
    run_tool(['tools/dataset_converters/whu_building.py', root])  # the converter CLI, as a user runs it
    config = child(tmp_path, 'whu', 'mask-rcnn_r50_fpn_8xb2-2x_whu-building-512x512.py', data_root=root,
                   backbone=RESNET, val_ann='annotations/whu_building_val.json',
                   test_ann='annotations/whu_building_test.json', iters=WHU_ITERS)
    # SGD from the base schedule is replaced by AdamW for a from-scratch overfit
    with open(config, 'a') as f:
        f.write("optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, weight_decay=0.0))\n")
    untrained, trained = str(tmp_path / 'untrained.pth'), str(tmp_path / 'work' / f'iter_{WHU_ITERS}.pth')
    save_untrained_checkpoint(load_config(config), untrained)
    # the untrained model is scored while training runs (one core each)
    untrained_test = start_tool(['tools/test.py', config, untrained, '--work-dir', str(tmp_path / 'test0')],
                                env=SINGLE_THREAD)
    # no validation while training: tools/test.py scores the result on the test split
    out = run_tool(['tools/train.py', config, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                    f'train_cfg.val_interval={WHU_ITERS + 1}'], env=SINGLE_THREAD).stdout
    before = parse_test_metrics(finish_tool(untrained_test, timeout=600))
    assert 'CheckedCocoDataset whu_building_train.json: kept 16 of 16 images' in out
    out = run_tool(['tools/test.py', config, trained, '--work-dir', str(tmp_path / 'test1')], env=SINGLE_THREAD)
    after = parse_test_metrics(out.stdout)
    print(f"WHU building test split: bbox mAP {before['coco/bbox_mAP']:.3f} -> {after['coco/bbox_mAP']:.3f}, "
          f"segm mAP {before['coco/segm_mAP']:.3f} -> {after['coco/segm_mAP']:.3f}")
    assert after['coco/bbox_mAP'] > before['coco/bbox_mAP'] + 0.2, (before, after)
    assert after['coco/segm_mAP'] > before['coco/segm_mAP'] + 0.2, (before, after)


@pytest.mark.parametrize('dataset', ['ssdd', 'nwpu-vhr10'])
def test_rs_vheat_mask_rcnn_two_iterations_and_test(tmp_path, dataset):
    root = str(tmp_path / dataset)
    if dataset == 'ssdd':
        make_ssdd(root, num_train=6, num_val=3, size=128)
        assert 'train: ' in run_tool(['tools/dataset_converters/ssdd.py', root]).stdout  # the release checker
        data_root, val_ann = osp.join(root, 'PSeg_SSDD', 'coco_style'), 'annotations/test.json'
        base = 'mask-rcnn_rs-vheat-base_fpn_8xb2-2x_ssdd-512x512.py'
    else:
        make_nwpu_vhr10(root, num_train=6, num_val=3, size=128)
        run_tool(['tools/dataset_converters/nwpu_vhr10.py', root, '--instances', 'annotations.json'])
        data_root, val_ann = root, 'annotations/nwpu_vhr10_instances_val.json'
        base = 'mask-rcnn_rs-vheat-base_fpn_8xb2-2x_nwpu-vhr10-1024x1024.py'
    config = child(tmp_path, dataset, base, data_root=data_root, backbone=VHEAT, val_ann=val_ann, test_ann=val_ann,
                   iters=2)
    out = run_tool(['tools/train.py', config, '--work-dir', str(tmp_path / 'work')], env=SINGLE_THREAD).stdout
    assert 'Iter(train) [2/2]' in out and 'layer-wise lr decay 0.9' in out and 'coco/segm_mAP' in out
    out = run_tool(['tools/test.py', config, str(tmp_path / 'work' / 'iter_2.pth'), '--work-dir',
                    str(tmp_path / 'test')], env=SINGLE_THREAD)
    assert {'coco/bbox_mAP', 'coco/segm_mAP'} <= set(parse_test_metrics(out.stdout))
