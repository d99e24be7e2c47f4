"""ISPRS Potsdam: the official-layout writer, the converter to mmseg's layout, and its error paths."""
import filecmp
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmrsfm.datasets.converters.potsdam import (POTSDAM_PALETTE, POTSDAM_SPLITS, convert_potsdam, crop_windows,
                                                potsdam_label_to_index)
from mmrsfm.datasets.file_checks import DatasetFormatError
from mmrsfm.datasets.synthetic import make_potsdam


def _read_tif(path: str) -> np.ndarray:
    import rasterio
    with rasterio.open(path) as ds:
        return ds.read().transpose(1, 2, 0)


def test_official_split_is_24_train_14_test_tiles():
    assert len(POTSDAM_SPLITS['train']) == 24 and len(POTSDAM_SPLITS['val']) == 14
    assert not set(POTSDAM_SPLITS['train']) & set(POTSDAM_SPLITS['val'])


def test_palette_maps_to_mmseg_indices():
    # one pixel per class colour, then the eroded-boundary black
    rgb = np.array([list(POTSDAM_PALETTE) + [(0, 0, 0)]], np.uint8)
    assert potsdam_label_to_index(rgb).tolist() == [[1, 2, 3, 4, 5, 6, 0]]


def test_unknown_colour_is_an_error_naming_file_colour_and_count():
    rgb = np.full((4, 4, 3), 255, np.uint8)
    rgb[0, :3] = (12, 34, 56)
    with pytest.raises(DatasetFormatError, match=r"'tile\.tif': 3 pixels .*\(\(12, 34, 56\): 3 px\)"):
        potsdam_label_to_index(rgb, 'tile.tif')
    index = potsdam_label_to_index(rgb, 'tile.tif', ignore_unknown=True)  # opt-in: ignored, and logged
    assert (index[0, :3] == 0).all() and (index[0, 3:] == 1).all() and (index[1:] == 1).all()


@pytest.mark.parametrize('height, width, size, stride', [(160, 160, 64, 48), (200, 130, 64, 64), (40, 100, 64, 32),
                                                         (512, 512, 512, 512)])
def test_crop_windows_cover_the_tile_inside_its_bounds(height, width, size, stride):
    cover = np.zeros((height, width), int)
    windows = crop_windows(height, width, size, stride)
    for x0, y0, x1, y1 in windows:
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert x1 - x0 == min(size, width) and y1 - y0 == min(size, height)
        cover[y0:y1, x0:x1] += 1
    assert (cover > 0).all()
    assert len({w[:2] for w in windows}) == len(windows)


@pytest.fixture(scope='module')
def release(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('potsdam_release'))
    make_potsdam(root, num_train=2, num_val=1, size=96, seed=3, modalities=('RGB', 'RGBIR'))
    return root


def test_convert_writes_mmseg_layout_with_exact_labels(release, tmp_path):
    out = str(tmp_path / 'out')
    counts = convert_potsdam(release, out, crop_size=64, stride=48)
    # 96 px tiles, 64 px windows every 48 px -> 2 x 2 windows per tile
    assert counts == {'train': 8, 'val': 4, 'val_tiles': 1}
    assert sorted(os.listdir(osp.join(out, 'img_dir', 'train')))[:2] == ['2_10_0_0_64_64.png', '2_10_0_32_64_96.png']
    assert os.listdir(osp.join(out, 'img_dir', 'val')) and os.listdir(osp.join(out, 'ann_dir', 'val'))

    tile = POTSDAM_SPLITS['val'][0]
    label_rgb = _read_tif(osp.join(release, '5_Labels_all_noBoundary', f'top_potsdam_{tile}_label_noBoundary.tif'))
    expected = np.zeros(label_rgb.shape[:2], np.uint8)
    for i, colour in enumerate(POTSDAM_PALETTE):
        expected[(label_rgb == colour).all(-1)] = i + 1
    whole = cv2.imread(osp.join(out, 'ann_dir', 'val_tiles', f'{tile}.png'), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(whole, expected) and (whole == 0).any()  # eroded boundary written as 0
    patch = cv2.imread(osp.join(out, 'ann_dir', 'val', f'{tile}_32_32_96_96.png'), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(patch, expected[32:96, 32:96])
    image = _read_tif(osp.join(release, '2_Ortho_RGB', f'top_potsdam_{tile}_RGB.tif'))
    written = cv2.imread(osp.join(out, 'img_dir', 'val', f'{tile}_32_32_96_96.png'))
    assert np.array_equal(written[..., ::-1], image[32:96, 32:96])  # BGR on disk, as mmcv expects


def test_mmseg_dataset_reads_eroded_boundary_as_ignore(release, tmp_path):
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    from mmseg.datasets import PotsdamDataset
    out = str(tmp_path / 'out')
    convert_potsdam(release, out, crop_size=96, full_tiles=())
    ds = PotsdamDataset(data_root=out, data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
                        pipeline=[dict(type='LoadAnnotations', reduce_zero_label=True)])
    seg = ds[0]['gt_seg_map']
    raw = cv2.imread(ds[0]['seg_map_path'], cv2.IMREAD_UNCHANGED)
    assert (seg[raw == 0] == 255).all() and np.array_equal(seg[raw > 0], raw[raw > 0] - 1)
    assert set(np.unique(seg)) <= set(range(6)) | {255}


def test_full_labels_have_no_ignore_and_zips_equal_folders(release, tmp_path):
    folder_out, zip_out = str(tmp_path / 'a'), str(tmp_path / 'b')
    convert_potsdam(release, folder_out, eroded=False, crop_size=64)
    zipped = str(tmp_path / 'zipped')
    make_potsdam(zipped, num_train=2, num_val=1, size=96, seed=3, modalities=('RGB', 'RGBIR'), zipped=True)
    assert sorted(os.listdir(zipped)) == ['2_Ortho_RGB.zip', '4_Ortho_RGBIR.zip', '5_Labels_all.zip',
                                          '5_Labels_all_noBoundary.zip']
    convert_potsdam(zipped, zip_out, eroded=False, crop_size=64)
    for sub in ('img_dir/train', 'ann_dir/train', 'ann_dir/val_tiles'):
        cmp = filecmp.dircmp(osp.join(folder_out, sub), osp.join(zip_out, sub))
        assert cmp.common_files and not (cmp.diff_files or cmp.left_only or cmp.right_only)
    for name in os.listdir(osp.join(folder_out, 'ann_dir', 'train')):
        assert cv2.imread(osp.join(folder_out, 'ann_dir', 'train', name), cv2.IMREAD_UNCHANGED).min() >= 1


def test_rgbir_patches_keep_four_bands(release, tmp_path):
    out = str(tmp_path / 'out')
    convert_potsdam(release, out, modality='RGBIR', crop_size=96, full_tiles=())
    tile = POTSDAM_SPLITS['train'][0]
    patch = cv2.imread(osp.join(out, 'img_dir', 'train', f'{tile}_0_0_96_96.png'), cv2.IMREAD_UNCHANGED)
    rgbir = _read_tif(osp.join(release, '4_Ortho_RGBIR', f'top_potsdam_{tile}_RGBIR.tif'))
    assert patch.shape == (96, 96, 4) and np.array_equal(patch, rgbir[..., [2, 1, 0, 3]])  # loaded as B, G, R, IR


def test_label_of_another_size_is_an_error_naming_both_files(release, tmp_path):
    src = str(tmp_path / 'release')
    make_potsdam(src, num_train=1, num_val=1, size=96, seed=3)
    tile = POTSDAM_SPLITS['train'][0]
    label = osp.join(src, '5_Labels_all_noBoundary', f'top_potsdam_{tile}_label_noBoundary.tif')
    from mmrsfm.datasets.synthetic.semseg import _write_potsdam_tif
    _write_potsdam_tif(label, _read_tif(label)[:, :95])  # a 6000x5999-style off-by-one tile
    with pytest.raises(DatasetFormatError, match=rf"top_potsdam_{tile}_RGB.tif' is 96x96 \(HxW\) but its label "
                                                 rf"'.*top_potsdam_{tile}_label_noBoundary.tif' is 96x95"):
        convert_potsdam(src, str(tmp_path / 'out'), crop_size=64)


def test_corrupt_tile_is_an_error_naming_it(tmp_path):
    src = str(tmp_path / 'release')
    make_potsdam(src, num_train=1, num_val=1, size=64, seed=0)
    tile = POTSDAM_SPLITS['train'][0]
    image = osp.join(src, '2_Ortho_RGB', f'top_potsdam_{tile}_RGB.tif')
    with open(image, 'wb') as f:
        f.write(b'II*\x00truncated')
    with pytest.raises(DatasetFormatError, match=rf"'.*top_potsdam_{tile}_RGB.tif' is not a readable image"):
        convert_potsdam(src, str(tmp_path / 'out'), crop_size=64)


def test_missing_release_is_an_error_with_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match='pass the folder holding 2_Ortho_RGB'):
        convert_potsdam(str(tmp_path), str(tmp_path / 'out'))
