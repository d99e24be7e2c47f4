"""Every band the files hold: 4-band Potsdam (RGBIR) configs keep all bands through their pipelines
(photometric distortion on the B, G, R bands only) and the model takes them; the RGB config on RGBIR
data is stopped by the band check instead of dropping IR silently."""
import glob
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS, init_default_scope

from mmrsfm.datasets.converters.potsdam import convert_potsdam
from mmrsfm.datasets.synthetic import make_potsdam
from mmrsfm.datasets.transforms import ApplyToBands
from mmrsfm.registry import HOOKS

from conftest import REPO

UPERNET = osp.join(REPO, 'configs/seg/upernet')
TINY = dict(embed_dims=8, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None, spatial_correction=False)


@pytest.fixture(scope='module')
def rgbir(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp('potsdam')
    make_potsdam(str(root / 'release'), num_train=1, num_val=1, size=96, modalities=('RGBIR', ))
    convert_potsdam(str(root / 'release'), str(root / 'out'), modality='RGBIR', crop_size=64)
    return str(root / 'out')


def test_apply_to_bands_distorts_colour_and_keeps_ir():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (16, 16, 4), dtype=np.uint8)
    init_default_scope('mmseg')
    from mmcv.transforms import TRANSFORMS
    plain = TRANSFORMS.build(dict(type='PhotoMetricDistortion'))
    # The problem: whenever its random saturation / hue steps run (each with probability 1/2, drawn from
    # numpy's global RNG, so seeded here), the image goes through HSV and the IR band is gone.
    bands = set()
    for seed in range(8):
        np.random.seed(seed)
        bands.add(plain(dict(img=img.copy()))['img'].shape[2])
    assert 3 in bands
    np.random.seed(3)
    out = ApplyToBands([dict(type='PhotoMetricDistortion', brightness_delta=255)])(dict(img=img.copy()))['img']
    assert out.shape == (16, 16, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 3], img[..., 3])
    assert not np.array_equal(out[..., :3], img[..., :3])
    with pytest.raises(ValueError, match='must keep the 3 bands'):
        ApplyToBands([dict(type='Resize', scale=(8, 8))])(dict(img=img.copy()))
    with pytest.raises(ValueError, match='got a 4-band image'):
        ApplyToBands([], bands=(2, 4))(dict(img=img))


@pytest.mark.parametrize('backbone', ['r50', 'rs-vheat-base'])
def test_rgbir_config_keeps_four_bands_from_file_to_backbone(rgbir, backbone):
    cfg = Config.fromfile(osp.join(UPERNET, f'upernet_{backbone}_4xb4-80k_potsdam-rgbir-512x512.py'))
    assert cfg.model.backbone.in_channels == 4 and len(cfg.model.data_preprocessor.mean) == 4
    init_default_scope('mmseg')
    datasets = {}
    for split in ('train', 'val', 'test'):
        ds_cfg = cfg[f'{split}_dataloader'].dataset
        ds_cfg.data_root = rgbir
        datasets[split] = DATASETS.build(ds_cfg)
    sample = datasets['test'][0]
    assert sample['inputs'].shape[0] == 4
    stored = cv2.imread(datasets['test'].get_data_info(0)['img_path'], cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(sample['inputs'].permute(1, 2, 0).numpy(), stored)  # B, G, R, IR as stored
    np.random.seed(0)
    train = datasets['train'][0]
    assert train['inputs'].shape[0] == 4
    # the model: a 4-band stem behind 4 mean/std values
    bn = dict(type='BN', requires_grad=True)  # shrunk, and plain BN on CPU
    if backbone == 'r50':
        cfg.model.backbone.update(depth=18, base_channels=8, stem_channels=8, norm_cfg=bn)
    else:
        cfg.model.backbone.update(arch=TINY, img_size=64, init_cfg=None)
    cfg.model.decode_head.update(in_channels=[8, 16, 32, 64], channels=8, norm_cfg=bn)
    cfg.model.auxiliary_head.update(in_channels=32, channels=8, norm_cfg=bn)
    cfg.model.pretrained = None
    cfg.model.data_preprocessor.size = (64, 64)
    from mmengine.registry import MODELS
    model = MODELS.build(cfg.model).eval()
    hook = HOOKS.build(dict(type='mmrsfm.InputChannelsCheckHook'))
    loop = SimpleNamespace(dataloader=SimpleNamespace(dataset=datasets['train']))
    runner = SimpleNamespace(model=model, train_loop=loop)
    hook.before_run(runner)
    hook.before_train(runner)
    batch = dict(inputs=[datasets['train'][0]['inputs']], data_samples=[datasets['train'][0]['data_samples']])
    hook.before_train_iter(runner, 0, batch)
    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        logits = model(data['inputs'], data['data_samples'], mode='tensor')
    assert logits.shape[:2] == (1, 6)


def test_rgb_config_on_rgbir_patches_is_stopped_naming_the_loader(rgbir):
    cfg = Config.fromfile(osp.join(UPERNET, 'upernet_r50_4xb4-80k_potsdam-512x512.py'))
    cfg.train_dataloader.dataset.data_root = rgbir
    init_default_scope('mmseg')
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    hook = HOOKS.build(dict(type='mmrsfm.InputChannelsCheckHook'))
    with pytest.raises(ValueError, match=r"holds 4 bands but the pipeline's first transform LoadImageFromFile "
                                         r"\(color_type='color'\) loads 3"):
        hook.before_train(SimpleNamespace(train_loop=SimpleNamespace(dataloader=SimpleNamespace(dataset=ds))))
    assert glob.glob(osp.join(rgbir, 'img_dir', 'train', '*.png'))
