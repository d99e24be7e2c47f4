import os
import os.path as osp
import runpy
import sys

import numpy as np
import pytest

from mmrsfm.datasets.file_checks import DatasetFormatError
from mmrsfm.datasets.scene_classification import (AID_CLASSES, EUROSAT_CLASSES, EUROSAT_MS_BANDS, EUROSAT_MS_MEAN,
                                                  EUROSAT_MS_STD, NWPU_RESISC45_CLASSES, UCMERCED_CLASSES,
                                                  AIDDataset, EuroSATDataset, SceneFolderDataset, UCMercedDataset,
                                                  stratified_split)
from mmrsfm.datasets.synthetic import (WRITERS, make_aid, make_eurosat_ms, make_eurosat_rgb, make_nwpu_resisc45,
                                       make_ucmerced, write_geotiff)
from mmrsfm.registry import DATASETS

RGB_PIPELINE = [dict(type='mmpretrain.LoadImageFromFile'), dict(type='mmpretrain.PackInputs')]
def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_release_class_lists_and_writers():
    assert (len(AID_CLASSES), len(NWPU_RESISC45_CLASSES), len(UCMERCED_CLASSES), len(EUROSAT_CLASSES)) == \
        (30, 45, 21, 10)
    assert all(tuple(sorted(c)) == c for c in (AID_CLASSES, NWPU_RESISC45_CLASSES, UCMERCED_CLASSES, EUROSAT_CLASSES))
    assert len(EUROSAT_MS_BANDS) == len(EUROSAT_MS_MEAN) == len(EUROSAT_MS_STD) == 13
    assert EUROSAT_MS_BANDS[-1] == 'B8A'  # the release stores B8A last (see the module docstring)
    assert {'aid', 'nwpu-resisc45', 'ucmerced', 'eurosat-rgb', 'eurosat-ms'} <= set(WRITERS)


def test_aid_layout_loads_through_mmpretrain_pipeline(tmp_path, log_messages):
    root = str(tmp_path / 'AID')
    make_aid(root, per_class=1, size=32)
    assert sorted(os.listdir(root)) == list(AID_CLASSES)
    with open(osp.join(root, 'Airport', 'Thumbs.db'), 'w') as f:
        f.write('x')
    ds = DATASETS.build(dict(type='mmrsfm.AIDDataset', data_root=root, pipeline=RGB_PIPELINE))
    assert len(ds) == 30 and ds.CLASSES == AID_CLASSES
    assert list(ds.get_gt_labels()) == list(range(30)) and ds.get_cat_ids(3) == [3]
    assert any('skipped 1 entries' in m and '.db' in m for m in log_messages)
    item = ds[5]
    assert tuple(item['inputs'].shape) == (3, 32, 32) and int(item['data_samples'].gt_label) == 5


def test_generic_folder_dataset_and_subsets(tmp_path):
    root = str(tmp_path)
    make_nwpu_resisc45(root, per_class=2, size=16, classes=('airplane', 'beach', 'wetland'))
    ds = SceneFolderDataset(data_root=root)
    assert ds.CLASSES == ('airplane', 'beach', 'wetland') and len(ds) == 6
    assert ds[2]['gt_label'] == 1 and ds[2]['img_path'].endswith(osp.join('beach', 'beach_001.jpg'))
    subset = DATASETS.build(dict(type='mmrsfm.NWPUResisc45Dataset', data_root=root,
                                 metainfo=dict(classes=('airplane', 'beach', 'wetland'))))
    assert len(subset) == 6
    with pytest.raises(FileNotFoundError, match=r"class\(es\) \['airport'"):
        DATASETS.build(dict(type='mmrsfm.NWPUResisc45Dataset', data_root=root))  # release list, 3 folders


def test_ucmerced_split_file_and_off_size_images(tmp_path):
    root = str(tmp_path)
    make_ucmerced(root, per_class=3, size=24, classes=UCMERCED_CLASSES[:4], off_size=1,
                  seed=1)
    with open(osp.join(root, 'train.txt'), 'w') as f:
        f.write('airplane/airplane01.tif\n\nagricultural/agricultural00.tif\n')
    ds = UCMercedDataset(data_root=root, split_file='train.txt', check_images=True,
                         metainfo=dict(classes=UCMERCED_CLASSES[:4]), pipeline=RGB_PIPELINE)
    assert [d['gt_label'] for d in infos(ds)] == [1, 0]
    assert tuple(ds[1]['inputs'].shape) == (3, 24, 21)  # the off-size image loads, not rejected


def _set(root, name, text):
    path = osp.join(root, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def test_bad_inputs_name_the_file(tmp_path):
    root = str(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"image root '.*nope' does not exist"):
        SceneFolderDataset(data_root=root, data_prefix='nope')
    make_aid(root, per_class=2, size=16, classes=('Airport', 'Beach'))
    cls2 = dict(classes=('Airport', 'Beach'))
    os.makedirs(osp.join(root, 'Bridge'))
    with pytest.raises(DatasetFormatError, match=r"class folder\(s\) \['.*Bridge'\] hold no images"):
        SceneFolderDataset(data_root=root)
    with pytest.raises(DatasetFormatError, match=r"folder\(s\) \['.*Bridge'\] are not classes"):
        SceneFolderDataset(data_root=root, metainfo=cls2)
    os.rmdir(osp.join(root, 'Bridge'))
    split = _set(root, 's.txt', 'Airport/airport_1.jpg\nBeach/beach_9.jpg\n')
    with pytest.raises(FileNotFoundError, match=r"s.txt' line 2: image '.*beach_9.jpg' does not exist"):
        AIDDataset(data_root=root, split_file=split, metainfo=cls2)
    _set(root, 's.txt', 'Airport/airport_1.jpg\nBridge/bridge_1.jpg\n')
    with pytest.raises(DatasetFormatError, match=r"line 2: .* class folder 'Bridge'"):
        AIDDataset(data_root=root, split_file='s.txt', metainfo=cls2)
    _set(root, 's.txt', 'airport_1.jpg\n')
    with pytest.raises(DatasetFormatError, match=r"line 1: 'airport_1.jpg' is not '<ClassFolder>/<file>'"):
        AIDDataset(data_root=root, split_file='s.txt', metainfo=cls2)
    _set(root, 's.txt', 'Beach/beach_1.jpg\nBeach/beach_1.jpg\n')
    with pytest.raises(DatasetFormatError, match=r'lines 1 and 2 both name'):
        AIDDataset(data_root=root, split_file='s.txt', metainfo=cls2)
    with pytest.raises(FileNotFoundError, match=r"split file '.*missing.txt' does not exist"):
        AIDDataset(data_root=root, split_file='missing.txt', metainfo=cls2)
    _set(root, osp.join('Beach', 'beach_2.jpg'), 'not a jpeg')
    assert len(AIDDataset(data_root=root, metainfo=cls2)) == 4  # lazy: the bad file fails when loaded
    with pytest.raises(DatasetFormatError, match=r"'.*beach_2.jpg' is not a readable image"):
        AIDDataset(data_root=root, metainfo=cls2, check_images=True)


def test_stratified_split_properties():
    samples = {c: [f'{c}_{i}.jpg' for i in range(n)] for c, n in (('a', 10), ('b', 7), ('c', 5), ('d', 1))}
    s0, s0b, s1 = (stratified_split(samples, 0.5, seed) for seed in (0, 0, 1))
    assert s0 == s0b and s0['train'] != s1['train']
    for split in (s0, s1):
        train, test = set(split['train']), set(split['test'])
        assert not train & test and not split['val']
        assert train | test == {f'{c}/{f}' for c, fs in samples.items() for f in fs}
        per_class = {c: sum(line.startswith(c + '/') for line in split['train']) for c in samples}
        assert per_class == dict(a=5, b=4, c=3, d=1)  # round(n * 0.5), halves up
        assert split['train'] == sorted(split['train'])
    with_val = stratified_split(samples, 0.2, 0, val_ratio=0.2)
    assert [sum(x.startswith('a/') for x in with_val[s]) for s in ('train', 'val', 'test')] == [2, 2, 6]
    # one class's draw does not depend on the others
    assert [x for x in s0['train'] if x.startswith('a/')] == \
        [x for x in stratified_split(dict(a=samples['a']), 0.5, 0)['train']]
    with pytest.raises(ValueError, match='ratio must be in'):
        stratified_split(samples, 1.0)


def test_split_tool_writes_lists_the_dataset_reads(tmp_path, monkeypatch, capsys):
    root = str(tmp_path)
    make_aid(root, per_class=5, size=16, classes=('Airport', 'Beach', 'Church'))
    tool = osp.join(REPO, 'tools', 'dataset_converters', 'scene_split.py')
    monkeypatch.setattr(sys, 'argv', [tool, root, '--ratio', '0.2', '--seed', '3'])
    runpy.run_path(tool, run_name='__main__')  # in-process: a subprocess would re-import the toolboxes (~15 s)
    out = capsys.readouterr().out
    assert 'train: 3 images of 3 classes' in out and 'test: 12 images' in out
    lines = open(osp.join(root, 'train_20.txt')).read().split()
    assert len(lines) == 3 and lines == sorted(lines)
    ds = AIDDataset(data_root=root, split_file='test_20.txt', metainfo=dict(classes=('Airport', 'Beach', 'Church')))
    assert len(ds) == 12 and not {osp.relpath(d['img_path'], root) for d in infos(ds)} & set(lines)


def test_eurosat_rgb_lists(tmp_path):
    root = str(tmp_path)
    files = make_eurosat_rgb(root, per_class=5, size=64)
    assert osp.basename(files['train']) == 'eurosat-train.txt'
    first = open(files['train']).readline().strip()
    assert first.endswith('.jpg') and '/' not in first
    sets = {s: EuroSATDataset(data_root=root, split_file=f'eurosat-{s}.txt') for s in ('train', 'val', 'test')}
    assert [len(d) for d in sets.values()] == [30, 10, 10]
    item = DATASETS.build(dict(type='mmrsfm.EuroSATDataset', data_root=root, split_file='eurosat-val.txt',
                               pipeline=RGB_PIPELINE))[0]
    assert tuple(item['inputs'].shape) == (3, 64, 64)
    _set(root, 'spectralgpt.txt', 'tif/Residential/Residential_2.tif    7\n')  # official SpectralGPT list format
    assert EuroSATDataset(data_root=root, split_file='spectralgpt.txt').get_data_info(0)['gt_label'] == 7
    _set(root, 'spectralgpt.txt', 'tif/Residential/Residential_2.tif    3\n')
    with pytest.raises(DatasetFormatError, match=r"line 1: label 3 but 'Residential' is class 7"):
        EuroSATDataset(data_root=root, split_file='spectralgpt.txt')


def test_eurosat_ms_drop_b10_and_band_count(tmp_path):
    root = str(tmp_path)
    files = make_eurosat_ms(root, per_class=2, size=16, classes=EUROSAT_CLASSES)
    pipeline = [dict(type='mmrsfm.LoadMultiBandImage', band_names=EUROSAT_MS_BANDS, drop_bands=('B10', )),
                dict(type='mmpretrain.PackInputs')]
    ds = DATASETS.build(dict(type='mmrsfm.EuroSATDataset', data_root=root, release='ms', check_images=True,
                             split_file='eurosat-train.txt', pipeline=pipeline))
    assert ds.get_data_info(0)['img_path'].endswith('.tif')  # the .jpg names of the list map to the .tif files
    item = ds[0]
    assert tuple(item['inputs'].shape) == (12, 16, 16)
    assert int(item['data_samples'].gt_label) == ds.get_data_info(0)['gt_label']
    bad = osp.join(files['images'], 'Forest', 'Forest_1.tif')
    write_geotiff(bad, np.full((16, 16, 12), 1000.0))
    with pytest.raises(DatasetFormatError, match=r"'.*Forest_1.tif' has 12 bands; the EuroSAT multispectral "
                                                 r'release has 13'):
        EuroSATDataset(data_root=root, release='ms', check_images=True)
    lazy = EuroSATDataset(data_root=root, release='ms', pipeline=pipeline)
    index = next(i for i, d in enumerate(infos(lazy)) if d['img_path'] == bad)
    with pytest.raises(ValueError, match=r"'.*Forest_1.tif' has 12 bands but band_names gives 13 names"):
        lazy.prepare_data(index)
