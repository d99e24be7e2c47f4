"""AIR-PolSAR-Seg: release-layout reading (4 polarisation files stacked HH, HV, VH, VV; RGB colour labels
to training ids), the amplitude -> dB transform, every named error, and the shipped pipeline end to end."""
import os
import os.path as osp

import numpy as np
import pytest
import rasterio
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from mmrsfm.datasets import AIRPolSARSegDataset, colour_code
from mmrsfm.datasets.air_polsar_seg import AIR_POLSAR_SEG_PALETTE, air_polsar_seg_label_table
from mmrsfm.datasets.file_checks import DatasetFormatError
from mmrsfm.datasets.synthetic import make_air_polsar_seg
from mmrsfm.datasets.transforms import SARToDecibels

from conftest import REPO

BASE = osp.join(REPO, 'configs/_base_/datasets/air-polsar-seg.py')
POLS = ('HH', 'HV', 'VH', 'VV')
LOAD = [dict(type='mmrsfm.LoadStackedModalities', bands=dict(HH=1, HV=1, VH=1, VV=1)),
        dict(type='mmrsfm.LoadColourCodedAnnotations'), dict(type='PackSegInputs')]


@pytest.fixture
def release(tmp_path) -> str:
    init_default_scope('mmseg')  # pipelines name mmseg transforms without a prefix, as configs do
    root = str(tmp_path / 'AIR-PolSAR-Seg')
    make_air_polsar_seg(root, num_train=2, num_val=1, size=32, seed=0)
    return root


def _dataset(root: str, split: str = 'train_set', pipeline=LOAD, **kw) -> AIRPolSARSegDataset:
    return AIRPolSARSegDataset(data_root=root, data_prefix=dict(img_path=split), pipeline=pipeline, **kw)


def _read(path: str) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def _write_label(path: str, rgb: np.ndarray) -> None:
    Image.fromarray(rgb.astype(np.uint8)).save(path)


def test_release_layout_stacking_order_and_colours(release):
    ds = _dataset(release)
    assert len(ds) == 2 and len(_dataset(release, 'test_set')) == 1
    assert ds.metainfo['classes'] == ('housing', 'industrial', 'natural', 'land_use', 'water', 'other')
    info = ds.get_data_info(0)
    folder = osp.join(release, 'train_set')
    assert info['img_path'] == {p: osp.join(folder, f'0000_{p}.tiff') for p in POLS}
    assert info['seg_map_path'] == osp.join(folder, '0000_gt.png')
    sample = ds[0]
    img, gt = sample['inputs'].numpy(), sample['data_samples'].gt_sem_seg.data[0].numpy()
    assert img.shape == (4, 32, 32)
    for band, pol in enumerate(POLS):  # band order = HH, HV, VH, VV, values as stored
        assert np.array_equal(img[band], _read(info['img_path'][pol]).astype(np.float32)), pol
    rgb = np.asarray(Image.open(info['seg_map_path']).convert('RGB'))
    for index, colour in enumerate(AIR_POLSAR_SEG_PALETTE):
        assert (gt[(rgb == colour).all(-1)] == index).all()
    assert (gt[(rgb == 0).all(-1)] == 255).all()  # black: unlabelled, ignored
    assert air_polsar_seg_label_table()[colour_code((0, 255, 255))] == 4  # water


def test_label_map_and_class_subset(release):
    sample = _dataset(release, label_map={colour_code((255, 255, 255)): 255})[0]  # 'other' ignored
    rgb = np.asarray(Image.open(osp.join(release, 'train_set', '0000_gt.png')).convert('RGB'))
    gt = sample['data_samples'].gt_sem_seg.data[0].numpy()
    assert (gt[(rgb == 255).all(-1)] == 255).all()
    subset = _dataset(release, metainfo=dict(classes=('water', 'natural')))[0]['data_samples'].gt_sem_seg.data[0]
    gt = subset.numpy()
    assert set(np.unique(gt)) <= {0, 1, 255}
    assert (gt[(rgb == [0, 255, 255]).all(-1)] == 0).all() and (gt[(rgb == [0, 255, 0]).all(-1)] == 1).all()


def test_decibels_amplitude_and_intensity():
    img = np.stack([np.array([[0.0, 1.0], [10.0, 1e5]], np.float32)] * 2, -1)  # (H, W, 2 bands)
    out = SARToDecibels(amplitude=True, clip=(0.0, 80.0), eps=1.0).transform(dict(img=img.copy()))['img']
    assert np.allclose(out[..., 0], [[0.0, 0.0], [20.0, 80.0]])  # 20 log10; 100 dB clipped to 80
    out = SARToDecibels(amplitude=False, clip=None, eps=1e-3).transform(dict(img=img.copy()))['img']
    assert np.allclose(out[..., 1], [[-30.0, 0.0], [10.0, 50.0]])  # 10 log10; zeros floored at eps
    out = SARToDecibels(clip=None, bands=[1]).transform(dict(img=img.copy()))['img']
    assert np.array_equal(out[..., 0], img[..., 0]) and np.allclose(out[1, 0, 1], 20.0)  # only band 1
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match='negative values.*already in dB'):
        SARToDecibels().transform(dict(img=-img, img_path='x.tiff'))
    with pytest.raises(ValueError, match='eps must be positive'):
        SARToDecibels(eps=0.0)
    with pytest.raises(ValueError, match='low < high'):
        SARToDecibels(clip=(10.0, 0.0))


def test_missing_polarisation_and_label_are_named(release):
    folder = osp.join(release, 'train_set')
    os.remove(osp.join(folder, '0001_VH.tiff'))
    os.remove(osp.join(folder, '0000_gt.png'))
    with pytest.raises(FileNotFoundError) as err:
        _dataset(release)
    msg = str(err.value)
    assert '0001_VH.tiff' in msg and '0000_gt.png' in msg and '2 file(s) missing' in msg and 'Fix:' in msg
    with pytest.raises(FileNotFoundError, match="folder .*val_set' does not exist.*Fix"):
        _dataset(release, 'val_set')
    empty = osp.join(release, 'empty')
    os.makedirs(empty)
    with pytest.raises(FileNotFoundError, match='no patches.*Fix'):
        _dataset(release, 'empty')


def test_bad_label_colours_and_channels_are_named(release):
    path = osp.join(release, 'train_set', '0000_gt.png')
    rgb = np.asarray(Image.open(path).convert('RGB')).copy()
    rgb[:2, :2] = (128, 128, 128)  # a colour of no class (e.g. a resampled / JPEG copy)
    _write_label(path, rgb)
    with pytest.raises(DatasetFormatError, match=r"AIR-PolSAR-Seg label '.*0000_gt.png' has values \{8421504: 4 px"):
        _dataset(release)[0]
    sample = _dataset(release, label_map={colour_code((128, 128, 128)): 255})[0]  # the fix the message names
    assert (sample['data_samples'].gt_sem_seg.data[0, :2, :2] == 255).all()
    Image.fromarray(rgb[..., 0]).save(path)  # a grey (class-index) copy
    with pytest.raises(DatasetFormatError, match='1 channel.*expected an RGB colour-coded label'):
        _dataset(release, check_labels=False)[0]


def test_shipped_pipeline_gives_db_bands(release):
    cfg = Config.fromfile(BASE)
    ds = _dataset(release, 'test_set', pipeline=cfg.test_pipeline)
    img = ds[0]['inputs'].numpy()
    info = ds.get_data_info(0)
    hh = _read(info['img_path']['HH']).astype(np.float64)
    expected = np.clip(20 * np.log10(np.maximum(hh, 1.0)), 0, 80)
    assert np.allclose(img[0], expected, atol=1e-4)
    # The synthetic classes differ in polarimetric ratio: co-pol (HH) above cross-pol (HV) in dB.
    assert img[0].mean() > img[1].mean() + 3
