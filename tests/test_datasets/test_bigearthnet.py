"""BigEarthNet-S2 v1.0 in its released layout: splits, exclusions, 43 -> 19 labels, loading, bad files."""
import json
import os
import os.path as osp

import numpy as np
import pytest

pytest.importorskip('mmpretrain')
pytest.importorskip('rasterio')

from mmrsfm.datasets import bigearthnet as ben  # noqa: E402
from mmrsfm.datasets.bigearthnet import (BIGEARTHNET_19_CLASSES, BIGEARTHNET_43_CLASSES,  # noqa: E402
                                         BIGEARTHNET_BANDS, BIGEARTHNET_EXCLUDE_FILES, BigEarthNetDataset,
                                         LoadBigEarthNetPatch, to_nomenclature)
from mmrsfm.datasets.file_checks import DatasetFormatError  # noqa: E402
from mmrsfm.datasets.synthetic import make_bigearthnet  # noqa: E402

PIPELINE = [dict(type='mmrsfm.LoadBigEarthNetPatch'), dict(type='mmpretrain.PackInputs')]


@pytest.fixture
def root(tmp_path):
    make_bigearthnet(str(tmp_path), num_train=6, num_val=2, num_test=2, num_cloudy=2, num_snowy=1, seed=3)
    return str(tmp_path)


@pytest.fixture
def logs(monkeypatch):
    messages = []
    monkeypatch.setattr(ben, 'print_log', lambda msg, **kw: messages.append(msg))
    return messages


def names(path):
    with open(path) as f:
        return f.read().split()


def test_layout_matches_the_release(root):
    patch = names(osp.join(root, 'train.csv'))[0]
    folder = osp.join(root, 'BigEarthNet-v1.0', patch)
    assert sorted(os.listdir(folder)) == sorted([f'{patch}_{b}.tif' for b in BIGEARTHNET_BANDS]
                                                + [f'{patch}_labels_metadata.json'])
    import rasterio
    for band, side in (('B02', 120), ('B05', 60), ('B09', 20)):
        with rasterio.open(osp.join(folder, f'{patch}_{band}.tif')) as src:
            assert (src.width, src.height, src.count, src.dtypes[0]) == (side, side, 1, 'uint16')
            assert src.crs.to_string().startswith('EPSG:326')  # UTM north
    with open(osp.join(folder, f'{patch}_labels_metadata.json')) as f:
        meta = json.load(f)
    assert set(meta) == {'labels', 'coordinates', 'projection', 'tile_source', 'acquisition_date'}
    assert meta['labels'] and set(meta['labels']) <= set(BIGEARTHNET_43_CLASSES)


def test_split_and_exclusions(root, logs):
    excludes = list(BIGEARTHNET_EXCLUDE_FILES)
    cloudy, snowy = (names(osp.join(root, f)) for f in excludes)
    # the official splits already leave the excluded patches out; a split that lists them loses them
    with open(osp.join(root, 'mine.csv'), 'w') as f:
        f.write('\n'.join(names(osp.join(root, 'val.csv')) + cloudy[:1] + snowy) + '\n')
    ds = BigEarthNetDataset(data_root=root, split_file='mine.csv', exclude_files=excludes)
    assert len(ds) == 2
    assert not {ds.get_data_info(i)['patch_name'] for i in range(len(ds))} & set(cloudy + snowy)
    assert any('removed 1 of 4' in m and excludes[0] in m for m in logs)
    assert any('removed 1 of 3' in m and excludes[1] in m for m in logs)
    # without a split file every patch folder is a sample
    everything = BigEarthNetDataset(data_root=root, exclude_files=excludes)
    assert len(everything) == 10
    assert len(BigEarthNetDataset(data_root=root)) == 13
    train = BigEarthNetDataset(data_root=root, split_file='train.csv', exclude_files=excludes)
    assert [train.get_data_info(i)['patch_name'] for i in range(6)] == names(osp.join(root, 'train.csv'))
    assert train.metainfo['classes'] == BIGEARTHNET_19_CLASSES
    assert len(BigEarthNetDataset(data_root=root, split_file='train.csv', nomenclature='43').metainfo['classes']) == 43


def test_43_to_19_follows_the_official_label_conversion():
    # label_indices.json: label_conversion[0] = [0, 1], [3] = [14, 15, 16, 18], [18] = [40, 41, 42]
    assert to_nomenclature(['Continuous urban fabric', 'Discontinuous urban fabric']) == [0]
    assert to_nomenclature(['Vineyards', 'Annual crops associated with permanent crops']) == [3]
    assert to_nomenclature(['Coastal lagoons', 'Sea and ocean', 'Natural grassland']) == [11, 18]
    assert BIGEARTHNET_19_CLASSES[11] == 'Natural grassland and sparsely vegetated areas'
    assert to_nomenclature(['Sparsely vegetated areas']) == [11]
    # dropped by the 19-class nomenclature: roads, ports, airports, mines, dumps, construction, green urban,
    # sport, bare rock, burnt areas, intertidal flats
    dropped = [n for i, n in enumerate(BIGEARTHNET_43_CLASSES) if ben.BIGEARTHNET_43_TO_19[i] is None]
    assert len(dropped) == 11 and 'Burnt areas' in dropped and 'Bare rock' in dropped
    assert to_nomenclature(['Burnt areas', 'Airports']) == []
    assert to_nomenclature(['Water bodies', 'Port areas'], '43') == [4, 39]
    covered = sorted(i for group in ben.BIGEARTHNET_LABEL_CONVERSION for i in group)
    assert covered == sorted(set(covered)) and len(covered) == 32


def test_empty_19_label_set_is_kept_and_logged(root, logs):
    patch = names(osp.join(root, 'train.csv'))[0]
    path = osp.join(root, 'BigEarthNet-v1.0', patch, f'{patch}_labels_metadata.json')
    with open(path) as f:
        meta = json.load(f)
    with open(path, 'w') as f:
        json.dump(dict(meta, labels=['Burnt areas', 'Bare rock']), f)
    ds = BigEarthNetDataset(data_root=root, split_file='train.csv', pipeline=PIPELINE)
    assert ds.get_data_info(0)['gt_label'] == [] and ds.get_cat_ids(0) == []
    assert any('1 of 6 patches have no label' in m for m in logs)
    assert ds[0]['data_samples'].gt_label.numel() == 0
    assert BigEarthNetDataset(data_root=root, split_file='train.csv', nomenclature='43').get_cat_ids(0) == [30, 32]


def test_pipeline_gives_12_bands_on_the_10m_grid_and_multi_label_gt(root):
    ds = BigEarthNetDataset(data_root=root, split_file='val.csv', pipeline=PIPELINE)
    out = ds[1]
    assert tuple(out['inputs'].shape) == (12, 120, 120)
    gt = out['data_samples'].gt_label.tolist()
    assert gt == ds.get_data_info(1)['gt_label'] and 1 <= len(gt) <= 3
    assert set(gt) <= {0, 2, 9, 17, 18}  # the default label pool's 19-class indices
    results = LoadBigEarthNetPatch(bands=('B4', 'b3', 'B02', 'B8A'), interpolation='bilinear')(
        dict(img_path=ds.get_data_info(1)['img_path']))
    assert results['img'].shape == (120, 120, 4) and results['img'].dtype == np.float32
    assert results['band_names'] == ['B04', 'B03', 'B02', 'B8A'] and results['crs'].startswith('EPSG:326')
    assert results['geo_transform'][0] == 10.0
    # SpectralGPT's 12-band order (ESA order without B10) is the default order
    spectral_gpt = ['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B11', 'B12']
    full = LoadBigEarthNetPatch(bands=spectral_gpt)(dict(img_path=ds.get_data_info(1)['img_path']))
    np.testing.assert_array_equal(full['img'], out['inputs'].numpy().transpose(1, 2, 0))
    with pytest.raises(ValueError, match='B10'):
        LoadBigEarthNetPatch(bands=('B10', ))


def test_present_labels_are_visible_in_the_spectra(root):
    """The writer's signal: each pool label lifts its own bands (what makes the demo learnable)."""
    ds = BigEarthNetDataset(data_root=root, pipeline=[dict(type='mmrsfm.LoadBigEarthNetPatch')])
    pool = [0, 2, 9, 17, 18]
    for i in range(len(ds)):
        img, gt = ds[i]['img'], ds.get_data_info(i)['gt_label']
        peak = np.quantile(img.reshape(-1, 12), 0.95, axis=0)
        lifted = [k for j, k in enumerate(pool) if peak[int((j + 0.5) * 12 / len(pool))] > 2000]
        assert lifted == gt


def _patch(root, split='train.csv'):
    name = names(osp.join(root, split))[0]
    return name, osp.join(root, 'BigEarthNet-v1.0', name)


def test_missing_patch_folder_names_it(root):
    with open(osp.join(root, 'train.csv'), 'a') as f:
        f.write('S2A_MSIL2A_20990101T000000_1_1\n')
    with pytest.raises(FileNotFoundError, match=r"S2A_MSIL2A_20990101T000000_1_1'.*train\.csv"):
        BigEarthNetDataset(data_root=root, split_file='train.csv')
    with pytest.raises(FileNotFoundError, match='nothere.csv'):
        BigEarthNetDataset(data_root=root, split_file='nothere.csv')
    with pytest.raises(FileNotFoundError, match='nothere.csv'):
        BigEarthNetDataset(data_root=root, exclude_files=['nothere.csv'])
    with pytest.raises(FileNotFoundError, match='BigEarthNet-v1.0'):
        BigEarthNetDataset(data_root=osp.join(root, 'missing'))


def test_missing_or_bad_metadata_names_the_file(root):
    name, folder = _patch(root)
    path = osp.join(folder, f'{name}_labels_metadata.json')
    with open(path) as f:
        meta = json.load(f)
    os.remove(path)
    with pytest.raises(FileNotFoundError, match=f'{name}_labels_metadata.json'):
        BigEarthNetDataset(data_root=root, split_file='train.csv')
    with open(path, 'w') as f:
        json.dump({k: v for k, v in meta.items() if k != 'labels'}, f)
    with pytest.raises(DatasetFormatError, match=f"{name}_labels_metadata.json' has no 'labels'"):
        BigEarthNetDataset(data_root=root, split_file='train.csv')
    with open(path, 'w') as f:
        f.write('{"labels": [')
    with pytest.raises(DatasetFormatError, match='not valid JSON'):
        BigEarthNetDataset(data_root=root, split_file='train.csv')
    with open(path, 'w') as f:
        json.dump(dict(meta, labels=['Transitional woodland, shrub']), f)  # the 19-class spelling
    with pytest.raises(DatasetFormatError,
                       match=rf"{name}' has label 'Transitional woodland, shrub' \(did you mean "
                       r"'Transitional woodland/shrub'\?\).*BIGEARTHNET_43_CLASSES"):
        BigEarthNetDataset(data_root=root, split_file='train.csv')


def test_bad_band_files_name_the_file(root):
    name, folder = _patch(root)
    ds = BigEarthNetDataset(data_root=root, split_file='train.csv', pipeline=PIPELINE)
    os.remove(osp.join(folder, f'{name}_B8A.tif'))
    with pytest.raises(FileNotFoundError, match=f'{name}_B8A.tif'):
        ds[0]
    with pytest.raises(FileNotFoundError, match=f"missing its band file '.*{name}_B8A.tif'"):
        BigEarthNetDataset(data_root=root, split_file='train.csv', check_bands=True)
    from mmrsfm.datasets.synthetic import write_geotiff
    write_geotiff(osp.join(folder, f'{name}_B8A.tif'), np.ones((120, 120)), gsd=10.0)  # upsampled beforehand
    with pytest.raises(DatasetFormatError, match=rf"{name}_B8A.tif' is 120 x 120 x 1 .* must be 60 x 60"):
        ds[0]
    with open(osp.join(folder, f'{name}_B02.tif'), 'wb') as f:
        f.write(b'not a tiff')
    with pytest.raises(DatasetFormatError, match=f'{name}_B02.tif'):
        ds[0]
