"""DIOR (horizontal boxes) and SAR-AIRcraft-1.0 read from their released layouts, as written by the
synthetic writers; bad input fails naming the file and the fix."""
import os
import os.path as osp
import shutil

import pytest
from mmengine.registry import init_default_scope

from mmrsfm.datasets import DIOR_CLASSES, SAR_AIRCRAFT_CLASSES, DIORHBBDataset, SARAircraftDataset
from mmrsfm.datasets.file_checks import DatasetFormatError
from mmrsfm.datasets.synthetic import WRITERS, make_dior_hbb, make_sar_aircraft

HBB = 'Annotations/Horizontal Bounding Boxes'


@pytest.fixture(autouse=True)
def _mmdet_scope():
    init_default_scope('mmdet')


@pytest.fixture(scope='module')
def dior(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('DIOR'))
    make_dior_hbb(root, num_train=3, num_val=2, num_test=2, classes=('airplane', 'expressway-service-area'),
                  seed=1)
    return root


@pytest.fixture(scope='module')
def sar(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('SAR-AIRcraft-1.0'))
    make_sar_aircraft(root, num_train=3, num_val=2, num_test=2, seed=1)
    return root


def test_writers_are_registered_and_repeatable(tmp_path):
    assert {'dior-hbb', 'sar-aircraft'} <= set(WRITERS)
    for seed_dir in ('a', 'b'):
        make_sar_aircraft(str(tmp_path / seed_dir), num_train=1, num_val=1, num_test=1, seed=3)
    a, b = (open(tmp_path / d / 'Annotations' / '0000001.xml').read() for d in 'ab')
    assert a == b and '<depth>1</depth>' in a
    with pytest.raises(ValueError, match='not SAR-AIRcraft-1.0 categories'):
        make_sar_aircraft(str(tmp_path / 'c'), classes=('B-52', ))


def test_dior_release_layout(dior):
    assert sorted(os.listdir(dior)) == ['Annotations', 'ImageSets', 'JPEGImages-test', 'JPEGImages-trainval']
    assert os.listdir(osp.join(dior, 'Annotations')) == ['Horizontal Bounding Boxes']
    assert sorted(os.listdir(osp.join(dior, 'ImageSets', 'Main'))) == ['test.txt', 'train.txt', 'val.txt']
    train = DIORHBBDataset(data_root=dior, ann_file='ImageSets/Main/train.txt', pipeline=[])
    test = DIORHBBDataset(data_root=dior, ann_file='ImageSets/Main/test.txt', img_subdir='JPEGImages-test',
                          test_mode=True, pipeline=[])
    assert len(train) == 3 and len(test) == 2 and len(train.metainfo['classes']) == 20
    assert train[0]['img_path'] == osp.join(dior, 'JPEGImages-trainval', '00001.jpg')
    assert test[0]['img_path'] == osp.join(dior, 'JPEGImages-test', '00006.jpg')
    xml_names = {line.strip() for f in os.listdir(osp.join(dior, HBB))
                 for line in open(osp.join(dior, HBB, f)) if '<name>' in line}
    # the release spells two categories with capitals; they map to their class all the same
    assert xml_names == {'<name>airplane</name>', '<name>Expressway-Service-area</name>'}
    labels = {i['bbox_label'] for d in (train, test) for k in range(len(d)) for i in d[k]['instances']}
    assert labels == {DIOR_CLASSES.index('airplane'), DIOR_CLASSES.index('expressway-service-area')}
    for k in range(len(train)):
        for inst in train[k]['instances']:
            x1, y1, x2, y2 = inst['bbox']
            assert 0 <= x1 < x2 <= 128 and 0 <= y1 < y2 <= 128 and inst['ignore_flag'] == 0


def test_sar_aircraft_release_layout_loads_one_band(sar):
    assert sorted(os.listdir(sar)) == ['Annotations', 'ImageSets', 'JPEGImages']
    pipeline = [dict(type='LoadImageFromFile', color_type='grayscale'), dict(type='LoadAnnotations', with_bbox=True),
                dict(type='PackDetInputs')]
    ds = SARAircraftDataset(data_root=sar, ann_file='ImageSets/Main/val.txt', pipeline=pipeline)
    assert ds.metainfo['classes'] == SAR_AIRCRAFT_CLASSES == (
        'A220', 'A320/321', 'A330', 'ARJ21', 'Boeing737', 'Boeing787', 'other')
    sample = ds[0]
    assert osp.basename(sample['data_samples'].img_path) == '0000004.jpg'
    assert tuple(sample['inputs'].shape) == (1, 128, 128)
    assert len(sample['data_samples'].gt_instances) >= 1


def _copy_tree(src, dst):
    shutil.copytree(src, dst)
    return str(dst)


def _first_xml(root, ann_dir, img_id):
    return osp.join(root, ann_dir, img_id + '.xml')


def test_unknown_class_is_an_error_naming_the_file(sar, tmp_path):
    root = _copy_tree(sar, tmp_path / 'sar')
    xml = _first_xml(root, 'Annotations', '0000001')
    text = open(xml).read()
    name = text.split('<name>')[1].split('</name>')[0]
    open(xml, 'w').write(text.replace(f'<name>{name}</name>', '<name>B-52</name>', 1))
    with pytest.raises(DatasetFormatError, match=r"0000001\.xml'.*'B-52'.*Fix: .*never dropped silently"):
        SARAircraftDataset(data_root=root, ann_file='ImageSets/Main/train.txt', pipeline=[])


def test_xml_without_box_tags_is_an_error_naming_the_file(dior, tmp_path):
    root = _copy_tree(dior, tmp_path / 'dior')
    xml = _first_xml(root, HBB, '00002')
    # an oriented DIOR-R annotation where the horizontal one is expected
    text = open(xml).read()
    open(xml, 'w').write(text.replace('<bndbox>', '<robndbox>').replace('</bndbox>', '</robndbox>'))
    with pytest.raises(DatasetFormatError, match=r"00002\.xml'.*no bndbox tag.*Horizontal Bounding Boxes"):
        DIORHBBDataset(data_root=root, ann_file='ImageSets/Main/train.txt', pipeline=[])
    open(xml, 'w').write(text.replace('<ymax>', '<y_max>', 1).replace('</ymax>', '</y_max>', 1))
    with pytest.raises(DatasetFormatError, match=r"00002\.xml'.*has no ymax tag"):
        DIORHBBDataset(data_root=root, ann_file='ImageSets/Main/train.txt', pipeline=[])


def test_missing_files_and_wrong_image_folder(dior, tmp_path):
    root = _copy_tree(dior, tmp_path / 'dior')
    # the test ids read from the trainval folder: the image is missing, and the error says which folder
    with pytest.raises(FileNotFoundError, match=r"JPEGImages-trainval/00006\.jpg'.*img_subdir"):
        DIORHBBDataset(data_root=root, ann_file='ImageSets/Main/test.txt', pipeline=[])
    open(_first_xml(root, HBB, '00003'), 'w').write('<annotation><object>')  # truncated
    with pytest.raises(DatasetFormatError, match=r"00003\.xml' is not well-formed xml"):
        DIORHBBDataset(data_root=root, ann_file='ImageSets/Main/train.txt', pipeline=[])
    os.remove(_first_xml(root, HBB, '00001'))
    with pytest.raises(FileNotFoundError, match=r"00001\.xml'.*does not exist. Fix"):
        DIORHBBDataset(data_root=root, ann_file='ImageSets/Main/train.txt', pipeline=[])


def test_empty_box_is_an_error(sar, tmp_path):
    root = _copy_tree(sar, tmp_path / 'sar')
    xml = _first_xml(root, 'Annotations', '0000002')
    text = open(xml).read()
    xmin = text.split('<xmin>')[1].split('</xmin>')[0]
    xmax = text.split('<xmax>')[1].split('</xmax>')[0]
    open(xml, 'w').write(text.replace(f'<xmax>{xmax}</xmax>', f'<xmax>{xmin}</xmax>', 1))
    with pytest.raises(DatasetFormatError, match=r"0000002\.xml'.*empty box"):
        SARAircraftDataset(data_root=root, ann_file='ImageSets/Main/train.txt', pipeline=[])
