"""WHU-OPT-SAR: release-layout reading, the errors for bad pairs and labels, the converter (same windows
for every modality and the label), one random crop / flip for both modalities and the label through the
shipped pipeline, and the fusion backbone's state-dict compatibility with two-stem RS-vHeat checkpoints."""
import os
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
import rasterio
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmrsfm.datasets import WHUOptSARDataset, convert_whu_opt_sar
from mmrsfm.datasets.file_checks import DatasetFormatError
from mmrsfm.datasets.synthetic import make_whu_opt_sar, write_geotiff
from mmrsfm.datasets.whu_opt_sar import tile_grid, whu_opt_sar_label_table
from mmrsfm.models.backbones import MultiModalRSvHeat, RSvHeat

from conftest import REPO

CONFIG = osp.join(REPO, 'configs/seg/upernet/upernet_rs-vheat-base_4xb4-80k_whu-opt-sar-512x512.py')
TINY = dict(embed_dims=8, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None, spatial_correction=True)
LOAD = [dict(type='mmrsfm.LoadStackedModalities'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
NAME = 'NH49E001013.tif'


@pytest.fixture
def release(tmp_path) -> str:
    init_default_scope('mmseg')  # pipelines name mmseg transforms without a prefix, as configs do
    root = str(tmp_path / 'release')
    make_whu_opt_sar(root, num_train=2, num_val=1, size=48, seed=0)  # 3 tiles of 48 x 64
    return root


def _dataset(root: str, **kw) -> WHUOptSARDataset:
    return WHUOptSARDataset(data_root=root, pipeline=LOAD, **kw)


def _read(path: str) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read().transpose(1, 2, 0)


def test_release_layout_pairs_and_label_mapping(release):
    ds = _dataset(release)
    assert len(ds) == 3 and ds.metainfo['classes'][0] == 'farmland'
    info = ds.get_data_info(0)
    assert info['img_path'] == {'opt': osp.join(release, 'optical', NAME), 'sar': osp.join(release, 'sar', NAME)}
    assert info['seg_map_path'] == osp.join(release, 'lbl', NAME)
    sample = ds[0]
    img, gt = sample['inputs'], sample['data_samples'].gt_sem_seg.data[0].numpy()
    assert tuple(img.shape) == (5, 48, 64)
    assert np.array_equal(img[:4].numpy(), _read(info['img_path']['opt']).transpose(2, 0, 1))  # optical first
    assert np.array_equal(img[4].numpy(), _read(info['img_path']['sar'])[..., 0])  # then SAR
    raw = _read(info['seg_map_path'])[..., 0]
    table = whu_opt_sar_label_table()
    assert table == {0: 255, 10: 0, 20: 1, 30: 2, 40: 3, 50: 4, 60: 5, 70: 6}
    assert np.array_equal(gt, np.vectorize(table.get)(raw))


def test_missing_modality_file_is_an_error_naming_it(release):
    os.remove(osp.join(release, 'sar', NAME))
    with pytest.raises(FileNotFoundError, match=r"(?s)1 file\(s\) missing.*sar/NH49E001013\.tif.*Fix"):
        _dataset(release)


def _rewrite(path: str, **kw) -> None:
    data = _read(path)
    write_geotiff(path, kw.pop('data', data), dtype='uint8', gsd=5.0, **kw)


def test_pair_size_mismatch_is_an_error_naming_both(release):
    _rewrite(osp.join(release, 'sar', NAME), data=np.zeros((40, 64), np.uint8), crs='EPSG:32649',
             origin=(500000.0, 3500000.0))
    with pytest.raises(DatasetFormatError, match=r"optical/NH49E001013\.tif' is 48x64.*sar/NH49E001013\.tif' is "
                                                 r'40x64.*Fix'):
        _dataset(release)[0]


@pytest.mark.parametrize('kw, message', [
    (dict(crs='EPSG:32650', origin=(500000.0, 3500000.0)), r'is in EPSG:32649 but its paired file .* EPSG:32650'),
    (dict(crs='EPSG:32649', origin=(500050.0, 3500000.0)), r'has geotransform .* not co-registered'),
])
def test_crs_or_transform_mismatch_is_an_error(release, kw, message):
    _rewrite(osp.join(release, 'sar', NAME), **kw)
    with pytest.raises(DatasetFormatError, match=message):
        _dataset(release)[0]
    with pytest.raises(DatasetFormatError, match=message):  # the converter checks first, too
        convert_whu_opt_sar(release, release + '_out', crop_size=32)


def test_label_values_outside_the_table_are_an_error_naming_the_file(release):
    path = osp.join(release, 'lbl', NAME)
    label = _read(path)[..., 0].copy()
    label[:2, :3] = 5  # a 0..7 class index instead of the release's 10..70
    _rewrite(path, data=label, crs='EPSG:32649', origin=(500000.0, 3500000.0))
    with pytest.raises(DatasetFormatError, match=r"WHU-OPT-SAR label '.*lbl/NH49E001013\.tif' has values \{5: 6 px"):
        _dataset(release)[0]
    with pytest.raises(DatasetFormatError, match=r'lbl/NH49E001013\.tif'):
        convert_whu_opt_sar(release, release + '_out', crop_size=32)
    assert len(_dataset(release, label_map={5: 255})[0]['inputs']) == 5  # declared explicitly: accepted


def test_band_count_is_checked(release):
    path = osp.join(release, 'optical', NAME)
    _rewrite(path, data=_read(path)[..., :3], crs='EPSG:32649', origin=(500000.0, 3500000.0))
    with pytest.raises(DatasetFormatError, match=r"opt image '.*optical/NH49E001013\.tif' has 3 band\(s\), "
                                                 r'expected 4'):
        _dataset(release)[0]


def test_converter_cuts_the_same_georeferenced_windows(release, tmp_path, monkeypatch):
    out = str(tmp_path / 'out')
    monkeypatch.setattr(sys, 'argv', ['whu_opt_sar.py', release, out, '--crop-size', '32', '--stride', '24',
                                      '--val-every', '3'])
    runpy.run_path(osp.join(REPO, 'tools/dataset_converters/whu_opt_sar.py'), run_name='__main__')
    grid = tile_grid(48, 64, 32, 24)
    assert grid == [(0, 0), (0, 24), (0, 32), (16, 0), (16, 24), (16, 32)]  # last window moved to the border
    assert len(os.listdir(osp.join(out, 'train', 'optical'))) == 2 * len(grid)
    assert os.listdir(osp.join(out, 'val', 'lbl')) and os.listdir(osp.join(out, 'val_tiles', 'sar')) == [
        'NH49E003013.tif']  # every 3rd tile is validation
    for folder in ('optical', 'sar', 'lbl'):
        whole = _read(osp.join(release, folder, NAME))
        for y, x in grid:
            patch_path = osp.join(out, 'train', folder, f'NH49E001013_{y}_{x}.tif')
            assert np.array_equal(_read(patch_path), whole[y:y + 32, x:x + 32])
            with rasterio.open(patch_path) as src:
                assert src.crs.to_string() == 'EPSG:32649'
                assert (src.transform.c, src.transform.f) == (500000.0 + 5 * x, 3500000.0 - 5 * y)
    assert len(WHUOptSARDataset(data_root=out, data_prefix=dict(img_path='train'), pipeline=LOAD)) == 12


def test_one_crop_and_flip_for_both_modalities_and_the_label(tmp_path):
    """The shipped train pipeline (minus the rescaling, which interpolates boundaries) on a pair whose NIR
    and SAR values encode the label: every crop / flip / distortion must keep them aligned."""
    init_default_scope('mmseg')
    root = str(tmp_path / 'coded')
    for folder in ('optical', 'sar', 'lbl'):
        os.makedirs(osp.join(root, folder))
    rng = np.random.default_rng(0)
    raw = (rng.integers(1, 8, (12, 16)).repeat(8, 0).repeat(8, 1) * 10).astype(np.uint8)  # 96 x 128, 10..70
    opt = np.stack([rng.integers(0, 256, raw.shape), rng.integers(0, 256, raw.shape),
                    rng.integers(0, 256, raw.shape), raw * 3], axis=-1)
    for folder, data in (('optical', opt), ('sar', raw * 2 + 5), ('lbl', raw)):
        write_geotiff(osp.join(root, folder, NAME), data, dtype='uint8', gsd=5.0, crs='EPSG:32649',
                      origin=(0.0, 0.0))
    pipeline = [t for t in Config.fromfile(CONFIG).train_pipeline if t['type'] != 'RandomResize']
    for t in pipeline:
        if t['type'] == 'RandomCrop':
            t['crop_size'] = (40, 40)
    ds = WHUOptSARDataset(data_root=root, pipeline=pipeline)
    for seed in range(8):
        np.random.seed(seed)
        sample = ds[0]
        img, gt = sample['inputs'].numpy(), sample['data_samples'].gt_sem_seg.data[0].numpy()
        value = (gt.astype(np.int64) + 1) * 10
        assert img.shape == (5, 40, 40)
        assert np.array_equal(img[3], value * 3) and np.array_equal(img[4], value * 2 + 5), seed


def _two_stem_state() -> dict:
    torch.manual_seed(1)
    return RSvHeat(arch=TINY, in_channels=dict(opt=4, sar=1), img_size=32).state_dict()


@pytest.mark.parametrize('fusion', ['mean', 'concat', 'gated'])
def test_fusion_loads_a_two_stem_checkpoint(fusion):
    state = _two_stem_state()
    model = MultiModalRSvHeat(arch=TINY, fusion=fusion, img_size=32)
    result = model.load_state_dict(state, strict=False)
    assert result.unexpected_keys == []
    assert all(k.startswith('fusion.') for k in result.missing_keys)
    assert bool(result.missing_keys) == (fusion != 'mean')
    assert set(model.state_dict()) - set(state) == {k for k in model.state_dict() if k.startswith('fusion.')}
    for key, value in state.items():
        assert torch.equal(model.state_dict()[key], value), key
    if fusion == 'mean':
        model.load_state_dict(state, strict=True)


def test_fusion_loads_the_paired_pretraining_through_init_cfg(tmp_path):
    """As the shipped config: a whole-model checkpoint of the paired pretraining (RGB optical stem, SAR
    stem, out_indices (2, 3)), read with prefix='backbone.'; the RGB stem is adapted to 4 bands."""
    torch.manual_seed(1)
    state = RSvHeat(arch=TINY, in_channels=dict(opt=3, sar=1), img_size=32, out_indices=(2, 3)).state_dict()
    path = str(tmp_path / 'pretrain.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in state.items()}}, path)
    model = MultiModalRSvHeat(arch=TINY, img_size=32,
                              init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone.'))
    model.init_weights()
    assert torch.equal(model.patch_embed_sar.conv1.weight, state['patch_embed_sar.conv1.weight'])
    assert torch.equal(model.layers[0][0].op.linear.weight, state['layers.0.0.op.linear.weight'])
    adapted = state['patch_embed_opt.conv1.weight'].mean(1, keepdim=True).repeat(1, 4, 1, 1) * 3 / 4
    torch.testing.assert_close(model.patch_embed_opt.conv1.weight, adapted)


def test_learned_fusions_start_as_the_mean_and_single_modality_ignores_the_other():
    state = _two_stem_state()
    x = torch.randn(2, 5, 32, 32)
    outs = {}
    for fusion in ('mean', 'concat', 'gated'):
        model = MultiModalRSvHeat(arch=TINY, fusion=fusion, img_size=32).eval()
        model.load_state_dict(state, strict=False)
        with torch.no_grad():
            outs[fusion] = model(x)
    for fusion in ('concat', 'gated'):
        for a, b in zip(outs[fusion], outs['mean']):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    sar_only = MultiModalRSvHeat(arch=TINY, modalities=('sar', ), img_size=32).eval()
    assert not hasattr(sar_only, 'patch_embed_opt') and sar_only.fusion is None
    y = x.clone()
    y[:, :4] = torch.randn(2, 4, 32, 32)  # other optical bands: same output
    with torch.no_grad():
        for a, b in zip(sar_only(x), sar_only(y)):
            assert torch.equal(a, b)
    assert sar_only.input_bands == (5, )
    with pytest.raises(ValueError, match=r'expects 5 input bands .*got 4'):
        sar_only(x[:, :4])
    with pytest.raises(ValueError, match='fusion must be one of'):
        MultiModalRSvHeat(arch=TINY, fusion='sum')
    with pytest.raises(ValueError, match='modalities'):
        MultiModalRSvHeat(arch=TINY, modalities=('nir', ))
    gated = MultiModalRSvHeat(arch=TINY, fusion='gated', img_size=32)
    assert gated.get_layer_depth('backbone.fusion.gate.weight', 'backbone.') == (0, 6)
