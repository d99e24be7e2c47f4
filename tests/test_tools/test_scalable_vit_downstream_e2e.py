"""The billion-scale RS ViT downstream configs end to end through tools/train.py and tools/test.py (CPU
subprocesses): the 86m Oriented R-CNN on DIOR-R and the 86m UPerNet on LoveDA, each with the backbone shrunk
by a child config and started, as the shipped configs are, from an MAE pretraining checkpoint (a stand-in
written here: pretrainer keys with the 'backbone.' prefix, a smaller position grid and no rel-pos tables)."""
import re

import pytest
import torch

from conftest import SINGLE_THREAD, run_tool, write_child_config
from mmrsfm.utils.tool_setup import parse_test_metrics

pytestmark = pytest.mark.e2e

TINY_ARCH = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64)
# The shipped backbone with TINY_ARCH: window attention in blocks 0 and 2 (the default, every quarter's last
# block global, would make all 4 blocks global), rel-pos on, init_cfg from the shipped config but the file.
TINY_BACKBONE = ("backbone=dict(arch=dict(_delete_=True, embed_dims=32, num_layers=4, num_heads=2, "
                 "feedforward_channels=64), img_size={img}, window_size={win}, global_attn_indexes=(1, 3), "
                 "drop_path_rate=0.0, init_cfg=dict(checkpoint='{ckpt}'))")
NO_VAL = ['--cfg-options', 'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None']


def fake_mae_checkpoint(path: str, img_size: int) -> str:
    """What an MAE pretraining run saves, in miniature: encoder keys under 'backbone.' (a position grid for
    ``img_size``, no rel-pos tables) beside decoder keys the downstream prefix must leave out."""
    from mmrsfm.models.backbones.scalable_vit import ScalableViT
    torch.manual_seed(0)
    encoder = ScalableViT(arch=TINY_ARCH, img_size=img_size)
    encoder.init_weights()
    state = {f'backbone.{k}': v for k, v in encoder.state_dict().items()}
    state.update({'neck.decoder_embed.weight': torch.zeros(16, 32), 'neck.mask_token': torch.zeros(1, 1, 16)})
    torch.save({'state_dict': state, 'meta': {}}, path)
    return path


def train_losses(log: str) -> list:
    return [float(v) for v in re.findall(r'Iter\(train\) \[\s*\d+/\d+\].*?\sloss: ([\d.]+)', log)]


def check_pretrained_load(log: str, ckpt: str, grid_from: int, grid_to: int) -> None:
    """The backbone loaded the checkpoint's encoder (prefix stripped, grid resized); only the new
    rel-pos tables were missing."""
    assert f'from: {ckpt}' in log or f'from path: {ckpt}' in log
    assert f'resized pos_embed from ({grid_from}, {grid_from}) to ({grid_to}, {grid_to})' in log
    missing = re.search(r'missing keys in source state_dict: (.*)', log)
    assert missing and {k.strip() for k in missing.group(1).split(',')} == {
        f'blocks.{i}.attn.rel_pos_{a}' for i in range(4) for a in 'hw'}
    assert 'unexpected key' not in log


DIOR_CHILD = """
data_root = '{root}/'
model = dict(
    {backbone},
    neck=dict(in_channels=32, out_channels=32),
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=32), bbox_head=dict(in_channels=32, fc_out_channels=128)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=200), rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=200), rcnn=dict(max_per_img=100)))
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
    dict(type='mmdet.Resize', scale=(128, 128), keep_ratio=True),  # sets scale_factor, as the shipped 800
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
split = dict(type='DIORDataset', data_root=data_root, data_prefix=dict(img_path='JPEGImages-trainval'),
             filter_cfg=dict(filter_empty_gt=True), pipeline=train_pipeline)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(datasets=[dict(split, ann_file='ImageSets/Main/train.txt'),
                                               dict(split, ann_file='ImageSets/Main/val.txt')]))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={iters}, val_interval={iters})
param_scheduler = []
optim_wrapper = dict(optimizer=dict(lr=1e-3))  # the shipped AdamW + layer decay, 10x lr for a short run
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(by_epoch=False, interval={iters}))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
"""


def test_dior_r_vit_86m_trains_from_mae_weights_and_tests(tmp_path):
    """The DIOR-R 86m config (shrunk) loads the MAE stand-in, trains with layer-wise lr decay until its
    loss falls, and tools/test.py scores the test split with mmrotate's DOTAMetric."""
    from mmrsfm.datasets.synthetic import make_dior_r
    root, iters = str(tmp_path / 'DIOR'), 20
    make_dior_r(root, num_train=24, num_val=8, num_test=8, size=128, seed=0)
    ckpt = fake_mae_checkpoint(str(tmp_path / 'mae.pth'), img_size=64)
    backbone = TINY_BACKBONE.format(img=128, win=4, ckpt=ckpt)
    cfg = write_child_config(str(tmp_path / 'dior.py'),
                             'configs/rotated_det/scalable_vit/oriented-rcnn-le90_vit-86m_simple-fpn_4xb2-1x_dior-800x800.py',
                             DIOR_CHILD.format(root=root, backbone=backbone, iters=iters))
    out = run_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'work')] + NO_VAL, env=SINGLE_THREAD).stdout
    assert f'Iter(train) [{iters}/{iters}]' in out and 'layer-wise lr decay 0.7:' in out
    check_pretrained_load(out, ckpt, 4, 8)
    losses = train_losses(out)
    assert len(losses) == iters and sum(losses[-4:]) < 0.8 * sum(losses[:4]), losses

    out = run_tool(['tools/test.py', cfg, str(tmp_path / 'work' / f'iter_{iters}.pth'), '--work-dir',
                    str(tmp_path / 'test')], env=SINGLE_THREAD).stdout
    metrics = parse_test_metrics(out)
    assert 'Iter(test) [1/1]' in out and 0.0 <= metrics['dota/mAP'] <= 1.0  # the 8 test-split images


LOVEDA_CHILD = """
data_root = '{root}'
crop_size = (64, 64)
model = dict(
    data_preprocessor=dict(size=crop_size),
    {backbone},
    neck=dict(in_channels=32, out_channels=32),
    decode_head=dict(in_channels=[32, 32, 32, 32], channels=16, pool_scales=(1, 2)),
    auxiliary_head=dict(in_channels=32, channels=16),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(48, 48)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=3e-3))  # the shipped AdamW + layer decay, 30x lr for a short run
param_scheduler = []
train_cfg = dict(max_iters={iters}, val_interval={iters})
default_hooks = dict(checkpoint=dict(interval={iters}), logger=dict(interval=1))
randomness = dict(seed=0)
"""


def test_loveda_vit_86m_trains_from_mae_weights_and_slides(tmp_path):
    """The LoveDA 86m config (shrunk) loads the MAE stand-in, trains until its loss falls, and
    tools/test.py scores the 96 px val images by sliding the 64 px window."""
    from mmrsfm.datasets.synthetic import make_loveda_official
    root, iters = str(tmp_path / 'LoveDA'), 20
    make_loveda_official(root, num_train=4, num_val=2, num_test=0, size=96)
    ckpt = fake_mae_checkpoint(str(tmp_path / 'mae.pth'), img_size=32)
    backbone = TINY_BACKBONE.format(img=64, win=2, ckpt=ckpt)
    cfg = write_child_config(str(tmp_path / 'loveda.py'),
                             'configs/seg/scalable_vit/upernet_vit-86m_simple-fpn_4xb4-80k_loveda-512x512.py',
                             LOVEDA_CHILD.format(root=root, backbone=backbone, iters=iters))
    # in process, what training starts from: the checkpoint's encoder values in the backbone, new rel-pos at 0
    from mmrsfm.utils.preflight import load_config
    from mmrsfm.utils.tool_setup import save_untrained_checkpoint
    save_untrained_checkpoint(load_config(cfg), str(tmp_path / 'init.pth'))
    init = torch.load(str(tmp_path / 'init.pth'), weights_only=True)['state_dict']
    mae = torch.load(ckpt, weights_only=True)['state_dict']
    torch.testing.assert_close(init['backbone.blocks.3.mlp.fc2.weight'], mae['backbone.blocks.3.mlp.fc2.weight'])
    torch.testing.assert_close(init['backbone.patch_embed.proj.weight'], mae['backbone.patch_embed.proj.weight'])
    assert not init['backbone.blocks.0.attn.rel_pos_h'].any()

    out = run_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'work')] + NO_VAL, env=SINGLE_THREAD).stdout
    assert f'Iter(train) [{iters}/{iters}]' in out and 'layer-wise lr decay 0.7:' in out
    check_pretrained_load(out, ckpt, 2, 4)
    losses = train_losses(out)
    assert len(losses) == iters and sum(losses[-4:]) < 0.85 * sum(losses[:4]), losses  # falls steadily

    out = run_tool(['tools/test.py', cfg, str(tmp_path / 'work' / f'iter_{iters}.pth'), '--work-dir',
                    str(tmp_path / 'test')], env=SINGLE_THREAD).stdout
    metrics = parse_test_metrics(out)
    assert 'LoveDA val/' in out and 0.0 <= metrics['mIoU'] <= 100.0
