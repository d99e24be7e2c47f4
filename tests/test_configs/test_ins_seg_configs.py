"""Every Mask R-CNN config loads, reads its dataset through mmrsfm.CheckedCocoDataset, has as many
classes as the dataset, and builds a model (RS-vHeat shrunk; ResNet-50 as it is, no weights downloaded)."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs/ins_seg/mask_rcnn/*.py')))
TINY_HEAT = dict(embed_dims=16, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None, spatial_correction=True)
DATASETS = {'ssdd-512x512': 1, 'whu-building-512x512': 1, 'nwpu-vhr10-1024x1024': 10}


def test_configs_exist():
    assert {osp.basename(c) for c in CONFIGS} >= {
        f'mask-rcnn_{b}_fpn_8xb2-2x_{d}.py' for b in ('r50', 'rs-vheat-base') for d in DATASETS}


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    num_classes = DATASETS[name.split('_')[-1][:-3]]
    assert cfg.default_scope == 'mmdet'
    for split in ('train', 'val', 'test'):
        dataset = getattr(cfg, f'{split}_dataloader').dataset
        assert dataset.type == 'mmrsfm.CheckedCocoDataset' and len(dataset.metainfo.classes) == num_classes
    assert cfg.test_evaluator.ann_file == cfg.test_dataloader.dataset.data_root + cfg.test_dataloader.dataset.ann_file
    assert set(cfg.test_evaluator.metric) == {'bbox', 'segm'}
    roi = cfg.model.roi_head
    assert roi.bbox_head.num_classes == roi.mask_head.num_classes == num_classes
    backbone = cfg.model.backbone
    if 'rs-vheat' in name:
        assert backbone.type == 'mmrsfm.RSvHeat' and backbone.arch == 'rs-base'
        assert cfg.model.neck.in_channels == [128, 256, 512, 1024]
        assert cfg.optim_wrapper.constructor == 'mmrsfm.LayerDecayOptimWrapperConstructor'
        assert backbone.img_size == int(re.search(r'-(\d+)x\d+\.py$', name).group(1))  # design = training size
        backbone.update(arch=TINY_HEAT, img_size=64)
        cfg.model.neck.in_channels = [16, 32, 64, 128]
    else:
        assert backbone.type == 'ResNet' and backbone.depth == 50
    backbone.init_cfg = None

    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 64, 96))
    assert len(feats) == 5 and feats[0].shape == (1, 256, 16, 24)  # FPN P2..P6 at stride 4..64
