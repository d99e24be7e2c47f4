"""Every UPerNet config loads, reads its dataset, has as many classes as the dataset, and builds a
model that predicts full-size maps by sliding windows (backbones shrunk, no weights downloaded)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs/seg/upernet/*.py')))
TINY_HEAT = dict(embed_dims=16, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None, spatial_correction=True)
DATASETS = {'potsdam': ('PotsdamDataset', 6), 'loveda': ('mmrsfm.LoveDAOfficialDataset', 7),
            'whu-opt-sar': ('mmrsfm.WHUOptSARDataset', 7), 'air-polsar-seg': ('mmrsfm.AIRPolSARSegDataset', 6),
            'isaid': ('iSAIDDataset', 16)}


def test_configs_exist():
    assert {osp.basename(c) for c in CONFIGS} >= {
        f'upernet_{b}_4xb4-80k_{d}-512x512.py' for b in ('r50', 'rs-vheat-base') for d in ('potsdam', 'loveda')}


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_slides(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    dataset_type, num_classes = DATASETS[next((d for d in DATASETS if d in name), 'loveda')]
    assert cfg.default_scope == 'mmseg' and cfg.train_dataloader.dataset.type == dataset_type
    assert cfg.model.decode_head.num_classes == cfg.model.auxiliary_head.num_classes == num_classes
    crop = (896, 896) if 'isaid' in name else (512, 512)  # mmseg's iSAID patch size
    assert cfg.model.test_cfg.mode == 'slide' and cfg.model.test_cfg.crop_size == crop
    if 'potsdam' in name:  # whole test tiles at native resolution
        assert cfg.test_dataloader.dataset.data_prefix.img_path == 'img_dir/val_tiles'
        assert not any(t.type == 'Resize' for t in cfg.test_dataloader.dataset.pipeline)
    elif 'whu-opt-sar' in name:  # whole validation tiles, optical + SAR stacked as 5 bands
        assert cfg.test_dataloader.dataset.data_prefix.img_path == 'val_tiles'
        assert len(cfg.model.data_preprocessor.mean) == 5
    elif 'isaid' in name:  # mmseg's dataset config: the converter's 896 px validation patches
        assert cfg.test_dataloader.dataset.data_prefix.img_path == 'img_dir/val'
    elif 'air-polsar-seg' in name:  # 512 px test patches, HH, HV, VH, VV stacked and converted to dB
        assert cfg.test_dataloader.dataset.data_prefix.img_path == 'test_set'
        assert len(cfg.model.data_preprocessor.mean) == cfg.model.backbone.in_channels == 4
        assert any(t.type == 'mmrsfm.SARToDecibels' for t in cfg.test_dataloader.dataset.pipeline)
    else:
        assert cfg.val_dataloader.dataset.split == 'val'
        expected = ('urban', ) if 'rural2urban' in name else ('urban', 'rural')
        assert tuple(cfg.val_dataloader.dataset.domains) == expected
    model_cfg = cfg.model
    if 'rs-vheat' in name:
        assert model_cfg.backbone.type in ('mmrsfm.RSvHeat', 'mmrsfm.MultiModalRSvHeat')
        assert model_cfg.backbone.arch == 'rs-base'
        assert model_cfg.decode_head.in_channels == [128, 256, 512, 1024] and model_cfg.pretrained is None
        assert cfg.optim_wrapper.constructor == 'mmrsfm.LayerDecayOptimWrapperConstructor'
        model_cfg.backbone.update(arch=TINY_HEAT, img_size=64)
        widths = [16, 32, 64, 128]
    else:
        assert model_cfg.backbone.depth == 50
        model_cfg.update(pretrained=None)
        model_cfg.backbone.update(depth=18, stem_channels=8, base_channels=8)
        widths = [8, 16, 32, 64]
    model_cfg.backbone.init_cfg = None
    model_cfg.decode_head.update(in_channels=widths, channels=8)
    model_cfg.auxiliary_head.update(in_channels=widths[2], channels=8)
    model_cfg.test_cfg.update(crop_size=(32, 32), stride=(24, 24))

    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    model = MODELS.build(model_cfg).eval()
    meta = dict(img_shape=(80, 72), ori_shape=(80, 72))
    with torch.no_grad():
        bands = model_cfg.backbone.get('in_channels', 3)
        out = model.predict(torch.rand(1, bands if isinstance(bands, int) else sum(bands.values()), 80, 72),
                            [SegDataSample(metainfo=meta)])
    assert out[0].pred_sem_seg.shape == (80, 72)
