"""Change-detection datasets and transforms: layouts, band resampling, paired alignment, bad input."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope

from mmrsfm.datasets import S2_BANDS, LEVIRCDDataset, OSCDDataset
from mmrsfm.datasets.file_checks import DatasetFormatError
from mmrsfm.datasets.synthetic import make_levircd, make_oscd
from mmrsfm.datasets.transforms import (ApplyPerDate, LoadBiTemporalImages, LoadCDAnnotations, PackCDInputs,
                                        RandomRotate90)
from mmrsfm.datasets.transforms.bitemporal import stack_bands

LOAD = [dict(type='mmrsfm.LoadBiTemporalImages', to_float32=True), dict(type='mmrsfm.LoadCDAnnotations'),
        dict(type='mmrsfm.PackCDInputs')]


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')  # pipelines name mmseg transforms without a prefix, as configs do


@pytest.fixture(scope='module')
def levir(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('levir'))
    make_levircd(root, num_train=3, num_val=1, size=32, seed=0)
    return root


@pytest.fixture(scope='module')
def oscd(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('oscd'))
    make_oscd(root, num_train=2, num_val=1, size=40, seed=0)
    return root


def levir_ds(root: str, split: str = 'train', **kwargs) -> LEVIRCDDataset:
    prefix = dict(img_path_a=f'{split}/A', img_path_b=f'{split}/B', seg_map_path=f'{split}/label')
    return LEVIRCDDataset(data_root=root, data_prefix=prefix, pipeline=LOAD, **kwargs)


def test_levircd_layout_labels_and_packing(levir):
    for split, count in (('train', 3), ('val', 1), ('test', 1)):
        assert sorted(os.listdir(osp.join(levir, split))) == ['A', 'B', 'label']
        assert len(os.listdir(osp.join(levir, split, 'A'))) == count
    ds = levir_ds(levir)
    assert len(ds) == 3 and ds.metainfo['classes'] == ('unchanged', 'changed')
    info = ds.get_data_info(0)
    assert info['img_path'] == (osp.join(levir, 'train/A/train_1.png'), osp.join(levir, 'train/B/train_1.png'))
    assert info['seg_map_path'] == osp.join(levir, 'train/label/train_1.png')
    raw = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
    assert set(np.unique(raw)) == {0, 255}
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (6, 32, 32)  # [A; B] bands stacked
    gt = sample['data_samples'].gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(gt, raw // 255)
    np.testing.assert_array_equal(sample['inputs'][:3].numpy().transpose(1, 2, 0), cv2.imread(info['img_path'][0]))
    assert sample['data_samples'].bands_per_date == 3


def test_oscd_native_rectified_and_band_selection(oscd):
    with open(osp.join(oscd, 'images', 'train.txt')) as f:
        assert f.read().count(',') == 1  # one line, comma-separated cities
    native = OSCDDataset(data_root=oscd, pipeline=LOAD)
    rect = OSCDDataset(data_root=oscd, rectified=True, pipeline=LOAD)
    assert len(native) == 2 and len(native.get_data_info(0)['img_path'][0]) == 13
    a, b = native[0]['inputs'].numpy(), rect[0]['inputs'].numpy()
    assert a.shape == b.shape == (26, 40, 40)
    ten_m = [S2_BANDS.index(n) for n in ('B02', 'B03', 'B04', 'B08')]
    for date in (0, 13):  # the 10 m bands are the same pixels in both folders
        np.testing.assert_array_equal(a[[date + i for i in ten_m]], b[[date + i for i in ten_m]])
    for name in ('B05', 'B06', 'B07', 'B8A', 'B11', 'B12'):  # 20 m bands upsampled onto the 10 m content
        i = S2_BANDS.index(name)
        aligned = np.corrcoef(a[i].ravel(), b[i].ravel())[0, 1]
        shifted = np.corrcoef(np.roll(a[i], 3, axis=0).ravel(), b[i].ravel())[0, 1]
        assert aligned > 0.7 and aligned > shifted + 0.3, (name, aligned, shifted)
    rgb = OSCDDataset(data_root=oscd, bands=('B04', 'B03', 'B02'), pipeline=LOAD)[0]['inputs'].numpy()
    idx = [S2_BANDS.index(n) for n in ('B04', 'B03', 'B02')]
    np.testing.assert_array_equal(rgb, a[idx + [13 + i for i in idx]])
    # labels: <city>-cm.tif holds 1/2 -> classes 0/1, the same map as cm/cm.png
    city = native.get_data_info(0)['seg_map_path'].split(os.sep)[-3]
    png = cv2.imread(osp.join(oscd, 'train_labels', city, 'cm', 'cm.png'), cv2.IMREAD_GRAYSCALE)
    np.testing.assert_array_equal(native[0]['data_samples'].gt_sem_seg.data[0].numpy(), png // 255)
    test = OSCDDataset(data_root=oscd, ann_file='images/test.txt',
                       data_prefix=dict(img_path='images', seg_map_path='test_labels'), pipeline=LOAD)
    assert len(test) == 1


def test_stack_bands_upsamples_top_left_aligned_and_crops_or_pads():
    fine = np.zeros((12, 12, 1), np.float32)
    coarse = np.zeros((2, 2, 1), np.float32)  # 60 m over a 12 x 10 m extent
    coarse[1, 0] = 600.0
    out = stack_bands([fine, coarse], ['b10.tif', 'b60.tif'])
    assert out.shape == (12, 12, 2) and out.dtype == np.float32
    up = out[..., 1]
    assert np.unravel_index(up.argmax(), up.shape)[0] in range(6, 12)  # stays in the coarse pixel's block
    assert up[6:, :6].mean() > 3 * up[:6, 6:].mean()
    # ceil-sized coarse rasters are cropped, floor-sized ones edge-padded, to the fine grid
    assert stack_bands([np.zeros((64, 64, 1)), np.ones((11, 11, 1))], ['a', 'b']).shape == (64, 64, 2)
    padded = stack_bands([np.zeros((64, 64, 1)), np.arange(100.).reshape(10, 10, 1)], ['a', 'b'])
    np.testing.assert_array_equal(padded[60:, :, 1], np.repeat(padded[59:60, :, 1], 4, axis=0))
    with pytest.raises(ValueError, match=r"band file 'b.tif' is 8x8 but the finest band .* 20x20"):
        stack_bands([np.zeros((20, 20, 1)), np.zeros((8, 8, 1))], ['a.tif', 'b.tif'])


def _coordinate_pair(h: int = 24, w: int = 20):
    """A encodes each pixel's (y, x), B = A + (100, 100, 1), label = (y + x) parity."""
    y, x = np.mgrid[:h, :w]
    img_a = np.stack([y, x, np.zeros_like(y)], -1).astype(np.float32)
    img = np.concatenate([img_a, img_a + np.float32([100, 100, 1])], -1)
    return dict(img=img, img_shape=(h, w), ori_shape=(h, w), bands_per_date=3,
                gt_seg_map=((y + x) % 2).astype(np.uint8), seg_fields=['gt_seg_map'])


@pytest.mark.parametrize('seed', range(6))
def test_geometric_transforms_keep_dates_and_label_aligned(seed):
    np.random.seed(seed)
    pipeline = Compose([
        dict(type='RandomResize', scale=(24, 20), ratio_range=(1.0, 2.0), keep_ratio=True, interpolation='nearest'),
        dict(type='RandomCrop', crop_size=(16, 12)),
        dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
        dict(type='mmrsfm.RandomRotate90', prob=0.75),
    ])
    out = pipeline(_coordinate_pair())
    img, label = out['img'], out['gt_seg_map']
    assert img.shape[:2] == label.shape == out['img_shape'] and sorted(img.shape[:2]) == [12, 16]
    np.testing.assert_array_equal(img[..., 3:], img[..., :3] + np.float32([100, 100, 1]))
    np.testing.assert_array_equal(label, (img[..., 0] + img[..., 1]).astype(int) % 2)


def test_random_rotate90_updates_shape_of_non_square_pairs():
    np.random.seed(0)
    shapes = set()
    for _ in range(12):
        out = RandomRotate90(prob=1.0)(_coordinate_pair(24, 20))
        assert out['img'].shape[:2] == out['img_shape'] == out['gt_seg_map'].shape
        shapes.add(out['img_shape'])
    assert shapes == {(24, 20), (20, 24)}


def test_photometric_transform_differs_per_date():
    np.random.seed(1)
    grey = np.full((16, 16, 3), 120, np.uint8)
    results = dict(img=np.concatenate([grey, grey], -1), img_shape=(16, 16), bands_per_date=3)
    per_date = ApplyPerDate([dict(type='PhotoMetricDistortion', brightness_delta=40)])
    dates = [per_date(dict(results))['img'] for _ in range(5)]
    assert all(d.shape == (16, 16, 6) for d in dates)
    assert any(not np.array_equal(d[..., :3], d[..., 3:]) for d in dates)  # independent draws per date
    assert all(len(np.unique(d[..., :3])) <= 3 for d in dates)  # a global change within each date
    with pytest.raises(ValueError, match='must keep each date at'):
        ApplyPerDate([dict(type='RandomCrop', crop_size=(8, 8))])(dict(results))


# ---------------------------------------------------------------------------------------------- bad input
@pytest.fixture
def levir_copy(tmp_path) -> str:
    make_levircd(str(tmp_path), num_train=2, num_val=1, size=16, seed=3)
    return str(tmp_path)


def test_missing_b_or_label_is_named(levir_copy):
    os.remove(osp.join(levir_copy, 'train/B/train_2.png'))
    os.remove(osp.join(levir_copy, 'train/label/train_1.png'))
    with pytest.raises(FileNotFoundError, match=r'2 file\(s\) of listed samples are missing') as err:
        levir_ds(levir_copy)
    assert 'train/B/train_2.png  (for ' in str(err.value) and 'train/label/train_1.png  (for ' in str(err.value)


def test_b_image_without_a_is_named(levir_copy):
    os.remove(osp.join(levir_copy, 'train/A/train_2.png'))
    with pytest.raises(FileNotFoundError, match=r'date-B image\(s\) have no date-A image[\s\S]*train/B/train_2.png'):
        levir_ds(levir_copy)


def test_empty_split_names_the_folder(levir_copy, tmp_path):
    for sub in ('A', 'B', 'label'):
        os.makedirs(tmp_path / 'empty' / sub)
    with pytest.raises(ValueError, match=r"empty split, no samples in '.*empty/A' \(no \*.png files\)"):
        levir_ds(str(tmp_path), split='empty')
    with pytest.raises(FileNotFoundError, match=r"data_prefix.img_path_a '.*nosplit/A' is not a directory"):
        levir_ds(str(tmp_path), split='nosplit')


def test_size_mismatches_are_named(levir_copy):
    b = osp.join(levir_copy, 'train/B/train_1.png')
    cv2.imwrite(b, np.zeros((16, 18, 3), np.uint8))
    with pytest.raises(ValueError, match=r"date A '.*A/train_1.png' is 16x16 but date B '.*B/train_1.png' is 16x18"):
        levir_ds(levir_copy)[0]
    label = osp.join(levir_copy, 'train/label/train_2.png')
    cv2.imwrite(label, np.zeros((8, 16), np.uint8))
    with pytest.raises(ValueError, match=r"label '.*train_2.png' is 8x16 but its images .* are 16x16"):
        levir_ds(levir_copy)[1]


def test_corrupted_images_are_named(levir_copy, oscd, tmp_path):
    a = osp.join(levir_copy, 'train/A/train_1.png')
    with open(a, 'wb') as f:
        f.write(b'\x89PNG not really')
    with pytest.raises(DatasetFormatError, match=rf"'{a}' is not a readable image"):
        levir_ds(levir_copy)[0]
    bad_tif = str(tmp_path / 'B02.tif')
    with open(bad_tif, 'wb') as f:
        f.write(b'II*\x00garbage')
    with pytest.raises(DatasetFormatError, match=rf"'{bad_tif}' is not a readable image \(GDAL: "):
        LoadBiTemporalImages()(dict(img_path=([bad_tif], [bad_tif])))


def test_unknown_band_and_missing_band_file(oscd, tmp_path):
    with pytest.raises(ValueError, match=r"unknown \['B13'\].*choose from the Sentinel-2 bands"):
        OSCDDataset(data_root=oscd, bands=('B02', 'B13'))
    import shutil
    root = str(tmp_path / 'oscd')
    shutil.copytree(oscd, root)
    city_dir = osp.join(root, 'images', 'traincity1', 'imgs_2')
    os.remove(next(osp.join(city_dir, f) for f in os.listdir(city_dir) if f.endswith('B8A.tif')))
    with pytest.raises(FileNotFoundError, match=r"OSCD folder '.*traincity1/imgs_2' has 0 files for band B8A"):
        OSCDDataset(data_root=root)
    os.remove(osp.join(root, 'train_labels', 'traincity0', 'cm', 'traincity0-cm.tif'))
    with pytest.raises(FileNotFoundError, match=r'traincity0-cm.tif  \(change map of city traincity0\)'):
        OSCDDataset(data_root=root, bands=('B02', ))


def test_pack_refuses_a_changed_band_count():
    results = dict(img=np.zeros((4, 4, 5), np.float32), bands_per_date=3, img_path=('a', 'b'))
    with pytest.raises(ValueError, match='2 x bands_per_date=3 channels'):
        PackCDInputs()(results)


def test_label_map_composes_with_a_class_subset_and_grey_rgb_labels(tmp_path):
    cv2.imwrite(str(tmp_path / 'l.png'), np.dstack([np.array([[0, 255]], np.uint8)] * 3))
    out = LoadCDAnnotations()(dict(seg_map_path=str(tmp_path / 'l.png'), label_map={255: 1}, seg_fields=[]))
    np.testing.assert_array_equal(out['gt_seg_map'], [[0, 1]])
    assert LEVIRCDDataset.get_label_map(None) == {255: 1}
    assert OSCDDataset.get_label_map(None) == {1: 0, 2: 1}
