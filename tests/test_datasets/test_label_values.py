"""Label files with values their dataset does not declare fail when first loaded, naming the file, the
values found and the fix; ``label_map`` declares other values explicitly; each file is checked once."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import rasterio
from mmengine.registry import DATASETS, init_default_scope

from mmrsfm.datasets import label_checks
from mmrsfm.datasets.file_checks import DatasetFormatError
from mmrsfm.datasets.synthetic import make_levircd, make_loveda_official, make_oscd, make_segmunich

CD_PIPELINE = [dict(type='mmrsfm.LoadBiTemporalImages'), dict(type='mmrsfm.LoadCDAnnotations')]
SEG_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', reduce_zero_label=True)]


@pytest.fixture(autouse=True)
def fresh_cache():
    init_default_scope('mmseg')
    label_checks._CHECKED.clear()
    yield
    label_checks._CHECKED.clear()


def levir(root: str, **kwargs):
    prefix = dict(img_path_a='train/A', img_path_b='train/B', seg_map_path='train/label')
    return DATASETS.build(dict(type='mmrsfm.LEVIRCDDataset', data_root=root, data_prefix=prefix,
                               pipeline=CD_PIPELINE, **kwargs))


def test_levircd_label_not_0_255_names_file_values_and_fix(tmp_path):
    make_levircd(str(tmp_path), num_train=2, num_val=1, size=32)
    path = sorted(glob.glob(str(tmp_path / 'train/label/*.png')))[1]
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    label[:3, :4] = 76  # a resampled copy: values between 0 and 255
    cv2.imwrite(path, label)
    ds = levir(str(tmp_path))
    ds[0]  # the good file loads
    with pytest.raises(DatasetFormatError) as err:
        ds[1]
    msg = str(err.value)
    assert f"LEVIR-CD label '{path}' has values {{76: 12 px}}" in msg
    assert '0 = unchanged, 255 = changed' in msg and 'accepted: [0, 255]' in msg
    assert 'restore this file from the official release' in msg and 'label_map={76: 255}' in msg


def test_levircd_stored_as_0_1_works_with_an_explicit_label_map(tmp_path):
    make_levircd(str(tmp_path), num_train=1, num_val=1, size=32)
    path = glob.glob(str(tmp_path / 'train/label/*.png'))[0]
    stored = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    cv2.imwrite(path, (stored > 0).astype(np.uint8))
    with pytest.raises(DatasetFormatError, match=r'has values \{1: \d+ px\}'):
        levir(str(tmp_path))[0]
    gt = levir(str(tmp_path), label_map={1: 1})[0]['gt_seg_map']
    np.testing.assert_array_equal(gt, stored > 0)
    with pytest.raises(ValueError, match='neither a class index'):
        levir(str(tmp_path), label_map={1: 7})


def test_oscd_change_map_other_than_1_2_is_an_error(tmp_path):
    make_oscd(str(tmp_path), num_train=1, num_val=1, size=24)
    path = str(tmp_path / 'train_labels/traincity0/cm/traincity0-cm.tif')
    with rasterio.open(path, 'r+') as dst:
        cm = dst.read(1)
        cm[0, :5] = 254
        dst.write(cm, 1)
    ds = DATASETS.build(dict(type='mmrsfm.OSCDDataset', data_root=str(tmp_path), pipeline=CD_PIPELINE))
    with pytest.raises(DatasetFormatError) as err:
        ds[0]
    assert f"OSCD label '{path}' has values {{254: 5 px}}" in str(err.value)
    assert '1 = unchanged, 2 = changed' in str(err.value)
    gt = DATASETS.build(dict(type='mmrsfm.OSCDDataset', data_root=str(tmp_path), pipeline=CD_PIPELINE,
                             label_map={254: 255}))[0]['gt_seg_map']
    assert (gt[0, :5] == 255).all() and set(np.unique(gt[1:])) <= {0, 1}


def _loveda_with_9(tmp_path):
    make_loveda_official(str(tmp_path), num_train=2, num_val=2, num_test=0, size=32)
    path = str(tmp_path / 'Val/Urban/masks_png/2.png')
    mask = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    mask[-2:, -2:] = 9
    cv2.imwrite(path, mask)
    return path


@pytest.mark.parametrize('test_mode', [False, True])
def test_loveda_value_9_fails_at_load_time_in_training_and_testing(tmp_path, test_mode):
    path = _loveda_with_9(tmp_path)
    ds = DATASETS.build(dict(type='mmrsfm.LoveDAOfficialDataset', data_root=str(tmp_path), split='val',
                             pipeline=SEG_PIPELINE, test_mode=test_mode))
    index = [i for i in range(len(ds)) if ds.get_data_info(i)['seg_map_path'] == path][0]
    with pytest.raises(DatasetFormatError) as err:
        ds[index]
    msg = str(err.value)
    assert f"LoveDA label '{path}' has values {{9: 4 px}}" in msg and '1..7 = background' in msg
    assert 'label_map={9: 255}' in msg


def test_loveda_label_map_ignores_a_declared_value_and_composes_with_a_class_subset(tmp_path):
    path = _loveda_with_9(tmp_path)
    ds = DATASETS.build(dict(type='mmrsfm.LoveDAOfficialDataset', data_root=str(tmp_path), split='val',
                             pipeline=SEG_PIPELINE, label_map={9: 255}))
    index = [i for i in range(len(ds)) if ds.get_data_info(i)['seg_map_path'] == path][0]
    gt = ds[index]['gt_seg_map']
    stored = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert (gt[-2:, -2:] == 255).all()
    np.testing.assert_array_equal(gt[stored < 8], np.where(stored[stored < 8] == 0, 255, stored[stored < 8] - 1))
    # class subset: building (index 1) and water (3) only; the others, and value 9, are ignored
    sub = DATASETS.build(dict(type='mmrsfm.LoveDAOfficialDataset', data_root=str(tmp_path), split='val',
                              pipeline=SEG_PIPELINE, label_map={9: 255},
                              metainfo=dict(classes=('building', 'water'))))
    gt = sub[index]['gt_seg_map']
    expected = np.full(stored.shape, 255, np.uint8)
    expected[stored == 2], expected[stored == 4] = 0, 1
    np.testing.assert_array_equal(gt, expected)


def test_segmunich_unknown_value_is_an_error(tmp_path):
    make_segmunich(str(tmp_path), num_train=1, num_val=1, size=16)
    path = str(tmp_path / 'train/label/0.tif')
    with rasterio.open(path, 'r+') as dst:
        label = dst.read(1)
        label[0, 0] = 99
        dst.write(label, 1)
    pipeline = [dict(type='mmrsfm.LoadMultiBandImage'), dict(type='LoadAnnotations')]
    ds = DATASETS.build(dict(type='mmrsfm.SegMunichDataset', data_root=str(tmp_path), pipeline=pipeline))
    with pytest.raises(DatasetFormatError, match=r"SegMunich label '.*0\.tif' has values \{99: 1 px\}"):
        ds[0]
    ok = DATASETS.build(dict(type='mmrsfm.SegMunichDataset', data_root=str(tmp_path), pipeline=pipeline,
                             label_map={99: 255}))
    assert ok[0]['gt_seg_map'][0, 0] == 255
    off = DATASETS.build(dict(type='mmrsfm.SegMunichDataset', data_root=str(tmp_path), pipeline=pipeline,
                              check_labels=False))
    off[0]  # the documented opt-out


def test_each_file_is_checked_once_per_process(tmp_path, monkeypatch):
    make_levircd(str(tmp_path), num_train=2, num_val=1, size=32)
    calls = []
    real = label_checks.value_counts
    monkeypatch.setattr(label_checks, 'value_counts', lambda label: calls.append(1) or real(label))
    ds = levir(str(tmp_path))
    for _ in range(3):
        ds[0], ds[1]
    assert len(calls) == 2
    assert label_checks.was_checked(ds.get_data_info(0)['seg_map_path'], (0, 255))
    assert osp.isfile(ds.get_data_info(0)['seg_map_path'])
