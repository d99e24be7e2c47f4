"""Every Oriented R-CNN config loads, points at the right data, and builds a model that runs (on CPU,
RS-vHeat shrunk to a tiny arch; the ResNet-50 ones as they are, without downloading weights)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs/rotated_det/oriented_rcnn/*.py')))
TINY = dict(embed_dims=16, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None, spatial_correction=True)


def test_configs_exist():
    names = {osp.basename(c) for c in CONFIGS}
    for backbone in ('r50', 'rs-vheat-base'):
        for data in ('dotav2-ss-1024x1024', 'dotav2-ms-1024x1024', 'dior-800x800'):
            assert f'oriented-rcnn-le90_{backbone}_fpn_1xb2-1x_{data}.py' in names
    assert 'oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_dotav2-ss-test-1024x1024.py' in names
    for backbone in ('r50', 'rs-vheat-base'):
        assert f'oriented-rcnn-le90_{backbone}_fpn_1xb2-1x_fair1mv2-ss-1024x1024.py' in names
    assert 'oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_fair1mv2-ss-test-1024x1024.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    data = 'dior' if 'dior' in name else 'fair1m' if 'fair1m' in name else 'dotav2'
    train_sets = cfg.train_dataloader.dataset.get('datasets', [cfg.train_dataloader.dataset])
    expected = dict(dior=('DIORDataset', 20), fair1m=('mmrsfm.FAIR1MDataset', 37), dotav2=('DOTAv2Dataset', 18))
    assert {d.type for d in train_sets} == {expected[data][0]}
    assert cfg.model.roi_head.bbox_head.num_classes == expected[data][1]
    if data == 'fair1m':  # whole validation images, scored against the converted labels
        assert cfg.val_evaluator.type == 'mmrsfm.DOTAMergeMetric'
        assert cfg.val_evaluator.ann_dir == 'data/FAIR1M2_0/validation/labelTxt/'
        assert osp.splitext(name)[0] in cfg.test_evaluator.outfile_prefix
        test_split = '-test-' in name
        assert cfg.test_dataloader.dataset.data_prefix.img_path == ('test/images/' if test_split else 'val/images/')
        assert (cfg.test_evaluator.get('ann_dir') is None) == test_split
    assert cfg.model.rpn_head.bbox_coder.angle_version == cfg.angle_version == 'le90'
    if 'dotav2-ms' in name:
        assert cfg.train_dataloader.dataset.data_root == 'data/split_ms_dota2_0/'
        assert any(t.type == 'RandomRotate' for t in cfg.train_dataloader.dataset.pipeline)
    if '-test-' in name:
        assert cfg.test_dataloader.dataset.ann_file == '' and cfg.test_evaluator.type == 'mmrsfm.DOTAMergeMetric'
    backbone = cfg.model.backbone
    if 'rs-vheat' in name:
        assert backbone.type == 'mmrsfm.RSvHeat' and backbone.arch == 'rs-base'
        assert cfg.model.neck.in_channels == [128, 256, 512, 1024]
        assert cfg.optim_wrapper.constructor == 'mmrsfm.LayerDecayOptimWrapperConstructor'
        assert cfg.optim_wrapper.optimizer.type == 'AdamW'
        backbone.update(arch=TINY, img_size=64)
        cfg.model.neck.in_channels = [16, 32, 64, 128]
    else:
        assert backbone.type == 'mmdet.ResNet' and backbone.depth == 50
    backbone.init_cfg = None

    init_default_scope('mmrotate')
    from mmrotate.registry import MODELS
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 64, 96))
    assert len(feats) == 5 and feats[0].shape == (1, 256, 16, 24)  # FPN P2..P6 at stride 4..64
