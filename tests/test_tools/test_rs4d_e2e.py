"""RS4D instance segmentation end to end through tools/train.py and tools/test.py (subprocesses, CPU):
the prompt head on SSDD and the Mask R-CNN ("bbox") head on NWPU VHR-10, each written in its release
layout, on a tiny RSMamba + LayerAggregator + SimpleFPN, two iterations, then COCO bbox + segm mAP."""
import os.path as osp

import pytest

from conftest import SINGLE_THREAD, run_tool, write_child_config
from mmrsfm.datasets.converters.nwpu_vhr10 import split_nwpu_instances
from mmrsfm.datasets.synthetic import make_nwpu_vhr10, make_ssdd
from mmrsfm.utils.tool_setup import parse_test_metrics

pytestmark = pytest.mark.e2e

# Shrinks a shipped RS4D config: 128 px images without LSJ, a 4-layer 32-wide RSMamba, 32-channel neck and
# heads, num_workers=0, two fixed-lr AdamW iterations.
CHILD = """
data_root = '{data_root}/'
img_scale = (128, 128)
randomness = dict(seed=0)
model = dict(
    backbone=dict(_delete_=True, type='mmrsfm.RSMamba', img_size=128, init_cfg=None,
                  arch=dict(embed_dims=32, num_layers=4, feedforward_channels=64)),
    neck=[dict(type='mmrsfm.LayerAggregator', in_channels=32, layer_indices=[1, 3], hidden_channels=16,
               out_channels=32),
          dict(type='mmrsfm.SimpleFPN', in_channels=32, out_channels=32, num_outs=5)],
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=32),
        bbox_head=dict(in_channels=32, fc_out_channels=64),
        mask_roi_extractor=dict(out_channels=32),
        mask_head={mask_head}),
    train_cfg=dict(rpn=dict(sampler=dict(num=64)), rpn_proposal=dict(nms_pre=200, max_per_img=100),
                   rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100), rcnn=dict(max_per_img=20)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(batch_size=3, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(num_workers=0, persistent_workers=False,
                       dataset=dict(data_root=data_root, pipeline=test_pipeline))
val_evaluator = dict(ann_file=data_root + '{ann}')
test_evaluator = dict(ann_file=data_root + '{ann}')
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = []
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=2, val_interval=3)  # tools/test.py evaluates
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2, save_best=None), logger=dict(interval=1))
log_processor = dict(by_epoch=False)
"""
PROMPT_HEAD = ('dict(in_channels=32, decoder=dict(num_heads=4, mlp_dim=64), loss_iou_weight=1.0, box_prompt=True, '
               'sam_checkpoint=None)')
FCN_HEAD = 'dict(in_channels=32, conv_out_channels=32)'


@pytest.mark.parametrize('dataset', ['ssdd', 'nwpu-vhr10'])
def test_rs4d_heads_train_and_test(tmp_path, dataset):
    root = str(tmp_path / dataset)
    if dataset == 'ssdd':  # the prompt head
        make_ssdd(root, num_train=6, num_val=3, size=128)
        data_root, ann = osp.join(root, 'PSeg_SSDD', 'coco_style'), 'annotations/test.json'
        base, mask_head = 'prompt-rcnn_rsmamba-base_agg-sfpn_1xb4-800e_ssdd-1024x1024.py', PROMPT_HEAD
    else:  # the bbox head (Mask R-CNN), 10 classes
        make_nwpu_vhr10(root, num_train=6, num_val=3, size=128)
        split_nwpu_instances(osp.join(root, 'annotations.json'))  # in-process (its CLI is tested elsewhere)
        data_root, ann = root, 'annotations/nwpu_vhr10_instances_val.json'
        base, mask_head = 'mask-rcnn_rsmamba-base_agg-sfpn_1xb4-1600e_nwpu-vhr10-1024x1024.py', FCN_HEAD
    config = write_child_config(str(tmp_path / f'{dataset}.py'), 'configs/ins_seg/rs4d/' + base,
                                CHILD.format(data_root=data_root, ann=ann, mask_head=mask_head))
    out = run_tool(['tools/train.py', config, '--work-dir', str(tmp_path / 'work')], env=SINGLE_THREAD).stdout
    assert 'Iter(train) [2/2]' in out and 'loss_mask' in out
    if dataset == 'ssdd':
        assert 'loss_mask_iou' in out
    out = run_tool(['tools/test.py', config, str(tmp_path / 'work' / 'iter_2.pth'), '--work-dir',
                    str(tmp_path / 'test')], env=SINGLE_THREAD)
    assert {'coco/bbox_mAP', 'coco/segm_mAP'} <= set(parse_test_metrics(out.stdout))
