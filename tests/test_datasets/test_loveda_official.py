"""mmrsfm.LoveDAOfficialDataset: LoveDA straight from the release layout, with domain selection."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmrsfm.datasets.file_checks import DatasetFormatError
from mmrsfm.datasets.synthetic import make_loveda_official

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', reduce_zero_label=True)]


def build(root: str, pipeline: list = PIPELINE, **kwargs):
    init_default_scope('mmseg')
    from mmengine.registry import DATASETS
    return DATASETS.build(dict(type='mmrsfm.LoveDAOfficialDataset', data_root=root, pipeline=pipeline, **kwargs))


@pytest.fixture
def root(tmp_path) -> str:
    make_loveda_official(str(tmp_path), num_train=5, num_val=2, num_test=2, size=32)
    return str(tmp_path)


def test_layout_is_the_official_one(root):
    assert sorted(os.listdir(root)) == ['Test', 'Train', 'Val']
    assert sorted(os.listdir(osp.join(root, 'Train'))) == ['Rural', 'Urban']
    assert sorted(os.listdir(osp.join(root, 'Train', 'Urban'))) == ['images_png', 'masks_png']
    assert os.listdir(osp.join(root, 'Test', 'Rural')) == ['images_png']


@pytest.mark.parametrize('domains, count', [(('urban', 'rural'), 5), (('urban', ), 3), (('rural', ), 2)])
def test_domains_select_the_folders(root, domains, count):
    ds = build(root, split='train', domains=domains)
    assert len(ds) == count
    folders = {osp.basename(osp.dirname(osp.dirname(ds.get_data_info(i)['img_path']))) for i in range(len(ds))}
    assert folders == {d.capitalize() for d in domains}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['seg_map_path'] == info['img_path'].replace('images_png', 'masks_png')
        assert info['domain'] in domains


def test_mmseg_classes_and_zero_label_semantics(root):
    ds = build(root, split='val')
    assert ds.metainfo['classes'][0] == 'background' and len(ds.metainfo['classes']) == 7
    sample = ds[0]
    raw = cv2.imread(ds.get_data_info(0)['seg_map_path'], cv2.IMREAD_UNCHANGED)
    assert (sample['gt_seg_map'][raw == 0] == 255).all()  # no-data -> ignore
    assert np.array_equal(sample['gt_seg_map'][raw > 0], raw[raw > 0] - 1)


def test_test_split_has_images_only(root):
    ds = build(root, split='test', pipeline=[dict(type='LoadImageFromFile')])
    assert len(ds) == 2 and 'seg_map_path' not in ds.get_data_info(0)


def test_bad_arguments_are_rejected(root):
    with pytest.raises(ValueError, match="domains 'urban' must be a non-empty list"):
        build(root, domains='urban')
    with pytest.raises(ValueError, match="split 'training' is not one of"):
        build(root, split='training')
    with pytest.raises(FileNotFoundError, match='set data_root to the folder holding the extracted Train/'):
        build(osp.join(root, 'Train'))


def test_missing_mask_is_an_error_naming_it(root):
    os.remove(osp.join(root, 'Train', 'Rural', 'masks_png', '3.png'))
    with pytest.raises(FileNotFoundError, match=r"images_png/3.png' has no mask '.*masks_png/3.png'"):
        build(root, split='train')


def test_mask_of_another_size_is_an_error(root):
    cv2.imwrite(osp.join(root, 'Val', 'Urban', 'masks_png', '5.png'), np.ones((32, 30), np.uint8))
    with pytest.raises(DatasetFormatError, match=r"Urban/images_png/5.png' is 32x32 \(HxW\) but its label "
                                                 r"'.*masks_png/5.png' is 32x30"):
        build(root, split='val')


def test_corrupt_image_is_an_error_naming_it(root):
    with open(osp.join(root, 'Val', 'Rural', 'images_png', '6.png'), 'wb') as f:
        f.write(b'\x89PNG garbage')
    with pytest.raises(DatasetFormatError, match=r"Rural/images_png/6.png' is not a readable image"):
        build(root, split='val')
