"""Errors that name the real fix, one test per case a new user met with foreign data in the official
layouts (Potsdam without eroded labels, NWPU without ground truth, DOTA without labelTxt, OSCD with
only the rectified bands)."""
import os.path as osp
import shutil

import pytest

from mmrsfm.datasets.converters.nwpu_vhr10 import convert_nwpu_boxes
from mmrsfm.datasets.converters.potsdam import convert_potsdam
from mmrsfm.datasets.dota_split import split_dota
from mmrsfm.datasets.synthetic import make_dota_raw, make_nwpu_vhr10, make_oscd, make_potsdam


def test_potsdam_with_only_full_labels_points_at_full_labels_flag(tmp_path):
    src = tmp_path / 'release'
    make_potsdam(str(src), num_train=1, num_val=1, size=64)
    shutil.rmtree(src / '5_Labels_all_noBoundary')
    with pytest.raises(FileNotFoundError) as err:
        convert_potsdam(str(src), str(tmp_path / 'out'))
    msg = str(err.value)
    assert 'holds 5_Labels_all' in msg and 'no eroded labels' in msg and 'Fix: pass --full-labels' in msg
    convert_potsdam(str(src), str(tmp_path / 'out'), eroded=False)  # the fix works


def test_potsdam_full_labels_flag_without_full_labels_and_other_modality(tmp_path):
    src = tmp_path / 'release'
    make_potsdam(str(src), num_train=1, num_val=1, size=64, modalities=('RGBIR', ))
    with pytest.raises(FileNotFoundError, match='Fix: pass --modality RGBIR'):
        convert_potsdam(str(src), str(tmp_path / 'out'))
    shutil.rmtree(src / '5_Labels_all')
    with pytest.raises(FileNotFoundError, match='Fix: leave --full-labels out'):
        convert_potsdam(str(src), str(tmp_path / 'out'), modality='RGBIR', eroded=False)


def test_nwpu_boxes_without_ground_truth_names_the_missing_folder_not_the_given_one(tmp_path):
    root = tmp_path / 'NWPU VHR-10 dataset'
    make_nwpu_vhr10(str(root), num_train=2, num_val=1, size=64)
    shutil.rmtree(root / 'ground truth')
    with pytest.raises(FileNotFoundError) as err:
        convert_nwpu_boxes(str(root))
    msg = str(err.value)
    assert "has the images ('positive image set/') but no 'ground truth/' folder" in msg
    assert "extract 'ground truth/' from the release" in msg and '--instances annotations.json' in msg
    with pytest.raises(FileNotFoundError, match=f"pass '{root}'"):  # one level too high
        convert_nwpu_boxes(str(tmp_path))


def test_dota_missing_label_folder_is_named_as_a_folder(tmp_path):
    raw = tmp_path / 'DOTA'
    make_dota_raw(str(raw), num_train=1, num_val=1, num_test=1, size=160, seed=0)
    wrong = str(raw / 'train' / 'labels')  # a typo: the release calls it labelTxt
    with pytest.raises(FileNotFoundError) as err:
        split_dota(str(raw / 'train' / 'images'), str(tmp_path / 'out'), wrong, patch_size=128, gap=32)
    msg = str(err.value)
    assert f"label folder '{wrong}' (--ann-dirs" in msg and 'does not exist' in msg
    assert f"'{raw / 'train' / 'labelTxt'}' exists, pass that" in msg
    assert 'not for a missing folder' in msg and 'leave --ann-dirs out' in msg
    assert not osp.exists(tmp_path / 'out' / 'images')
    shutil.rmtree(raw / 'train' / 'labelTxt')
    with pytest.raises(FileNotFoundError, match=r'keeps them in \{train,val\}/labelTxt'):
        split_dota(str(raw / 'train' / 'images'), str(tmp_path / 'out'), str(raw / 'train' / 'labelTxt'))


def test_oscd_with_only_rectified_bands_suggests_rectified_true(tmp_path):
    from mmengine.registry import DATASETS, init_default_scope
    init_default_scope('mmseg')
    make_oscd(str(tmp_path), num_train=1, num_val=1, size=24)
    for city in ('traincity0', 'testcity0'):
        for d in (1, 2):
            shutil.rmtree(tmp_path / 'images' / city / f'imgs_{d}')
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(dict(type='mmrsfm.OSCDDataset', data_root=str(tmp_path)))
    msg = str(err.value)
    assert "imgs_1' does not exist, but" in msg and 'holds only the rectified bands' in msg
    assert 'Fix: set rectified=True' in msg and 'train_dataloader.dataset.rectified=True' in msg
    assert len(DATASETS.build(dict(type='mmrsfm.OSCDDataset', data_root=str(tmp_path), rectified=True))) == 1
