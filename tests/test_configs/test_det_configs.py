"""The horizontal-detection configs (configs/det): DIOR and SAR-AIRcraft-1.0 read through mmrsfm's
release-layout datasets, train + val -> test with VOC mAP50, and every model builds and runs (RS-vHeat
shrunk; ResNet-50 as it is, no weights downloaded); the SAR configs take one band."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs/det/**/*.py'), recursive=True))
TINY_HEAT = dict(embed_dims=16, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None, spatial_correction=True)
# dataset suffix -> (dataset type, classes, bands)
DATASETS = {'dior-800x800': ('mmrsfm.DIORHBBDataset', 20, 3),
            'sar-aircraft-800x800': ('mmrsfm.SARAircraftDataset', 7, 1)}


def test_configs_exist():
    assert {osp.basename(c) for c in CONFIGS} == {
        f'faster-rcnn_{b}_fpn_1xb2-1x_{d}.py' for b in ('r50', 'rs-vheat-base') for d in DATASETS}


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_reads_the_release_and_builds(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    dataset_type, num_classes, bands = DATASETS[name.split('_')[-1][:-3]]
    assert cfg.default_scope == 'mmdet'
    train = cfg.train_dataloader.dataset
    assert train.type == 'ConcatDataset'  # the releases have no trainval list
    assert [d.ann_file for d in train.datasets] == ['ImageSets/Main/train.txt', 'ImageSets/Main/val.txt']
    test = cfg.test_dataloader.dataset
    assert test.ann_file == 'ImageSets/Main/test.txt' and test.test_mode
    for d in train.datasets + [test, cfg.val_dataloader.dataset]:
        assert d.type == dataset_type
        load = d.pipeline[0]
        assert load.type == 'LoadImageFromFile' and load.get('color_type', 'color') == (
            'grayscale' if bands == 1 else 'color')
    if 'dior' in name:
        assert {d.img_subdir for d in train.datasets} == {'JPEGImages-trainval'}
        assert test.img_subdir == 'JPEGImages-test'
    assert cfg.test_evaluator == dict(type='VOCMetric', metric='mAP', iou_thrs=0.5, eval_mode='11points')
    assert cfg.model.roi_head.bbox_head.num_classes == num_classes
    assert len(cfg.model.data_preprocessor.mean) == len(cfg.model.data_preprocessor.std) == bands
    backbone = cfg.model.backbone
    if 'rs-vheat' in name:
        assert backbone.type == 'mmrsfm.RSvHeat' and backbone.arch == 'rs-base' and backbone.img_size == 800
        assert backbone.get('in_channels', 3) == bands
        assert cfg.model.neck.in_channels == [128, 256, 512, 1024]
        assert cfg.optim_wrapper.constructor == 'mmrsfm.LayerDecayOptimWrapperConstructor'
        backbone.update(arch=TINY_HEAT, img_size=64)
        cfg.model.neck.in_channels = [16, 32, 64, 128]
    else:
        assert backbone.type == 'ResNet' and backbone.depth == 50 and backbone.get('in_channels', 3) == bands
    backbone.init_cfg = None

    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, bands, 64, 96))
    assert len(feats) == 5 and feats[0].shape == (1, 256, 16, 24)  # FPN P2..P6 at stride 4..64
