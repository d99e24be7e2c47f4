"""Every change-detection config loads, points at its dataset, and builds a Siamese model that runs
sliding-window inference (backbones shrunk, no weights downloaded)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs/change_det/siamese_upernet/*.py')))
TINY_HEAT = dict(embed_dims=16, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None, spatial_correction=True)


def test_configs_exist():
    assert {osp.basename(c) for c in CONFIGS} >= {
        'siamese-upernet_r18_4xb8-40k_levir-cd-256.py', 'siamese-upernet_rs-vheat-base_4xb8-40k_levir-cd-256.py',
        'siamese-upernet_r18_4xb8-20k_oscd-128.py'}


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_slides(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    model_cfg = cfg.model
    assert model_cfg.type == 'mmrsfm.SiameseEncoderDecoder' and model_cfg.test_cfg.mode == 'slide'
    assert cfg.test_evaluator.type == 'mmrsfm.ChangeDetectionMetric' and cfg.default_hooks.checkpoint.save_best == 'cd/F1'
    bands = len(model_cfg.data_preprocessor.mean)
    assert model_cfg.backbone.in_channels == bands
    if 'oscd' in name:
        assert bands == 13 and len(cfg.train_dataloader.dataset.bands) == 13 and cfg.data_root == 'data/oscd/'
        assert not model_cfg.data_preprocessor.bgr_to_rgb
    else:
        assert bands == 3 and cfg.train_dataloader.dataset.type == 'mmrsfm.LEVIRCDDataset'
    if 'rs-vheat' in name:
        assert model_cfg.backbone.arch == 'rs-base' and model_cfg.decode_head.in_channels == [128, 256, 512, 1024]
        assert cfg.optim_wrapper.constructor == 'mmrsfm.LayerDecayOptimWrapperConstructor'
        model_cfg.backbone.update(arch=TINY_HEAT, img_size=64)
        widths = [16, 32, 64, 128]
    else:
        assert model_cfg.backbone.depth == 18 and model_cfg.decode_head.in_channels == [64, 128, 256, 512]
        model_cfg.backbone.update(stem_channels=8, base_channels=8)
        widths = [8, 16, 32, 64]
    model_cfg.backbone.init_cfg = None
    model_cfg.decode_head.update(in_channels=widths, channels=8)
    model_cfg.auxiliary_head.update(in_channels=widths[2], channels=8)

    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    model = MODELS.build(model_cfg).eval()
    meta = dict(img_shape=(80, 72), ori_shape=(80, 72))
    with torch.no_grad():
        out = model.predict(torch.rand(1, 2 * bands, 80, 72), [SegDataSample(metainfo=meta)])
    assert out[0].pred_sem_seg.shape == (80, 72)
