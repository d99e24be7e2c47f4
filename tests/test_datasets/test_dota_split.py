"""DOTA label parsing and image splitting (mmrsfm.datasets.dota_split), on the raw-release fixture."""
import json
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from mmrsfm.datasets.dota_split import (DOTAFormatError, DOTALabels, clip_polygon, crop_objects, parse_dota_txt,
                                        parse_patch_name, patch_name, polygon_area, sliding_windows, split_dota,
                                        split_image, window_starts)
from mmrsfm.datasets.synthetic import DOTA_HEADER, make_dota_raw

CLASSES = ('plane', 'ship', 'storage-tank')


@pytest.fixture(scope='module')
def raw(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('dota_raw'))
    make_dota_raw(root, num_train=2, num_val=2, num_test=1, size=320, seed=3)
    return root


def test_raw_fixture_is_the_release_layout(raw):
    assert sorted(os.listdir(raw)) == ['test', 'train', 'val']
    assert sorted(os.listdir(osp.join(raw, 'train'))) == ['images', 'labelTxt']
    assert os.listdir(osp.join(raw, 'test')) == ['images']  # no labels for the test split
    with open(osp.join(raw, 'train', 'labelTxt', 'P0000.txt')) as f:
        lines = f.read().splitlines()
    assert tuple(lines[:2]) == DOTA_HEADER == ('imagesource:GoogleEarth', 'gsd:0.146343590398')
    assert re.fullmatch(r'(-?\d+\.\d ){8}(plane|ship|storage-tank) [01]', lines[2])
    shapes = {cv2.imread(osp.join(raw, s, 'images', f)).shape[:2]
              for s in ('train', 'val') for f in os.listdir(osp.join(raw, s, 'images'))}
    assert all(192 <= min(s) and max(s) <= 320 for s in shapes) and any(h != w for h, w in shapes)


def test_parse_reads_header_objects_and_missing_flag(tmp_path):
    txt = tmp_path / 'a.txt'
    txt.write_text('imagesource:GoogleEarth\ngsd:null\n\n1 2 3 4 5 6 7 8 plane 1\n1 2 3 4 5 6 7 8 ship\n')
    labels = parse_dota_txt(str(txt))
    assert labels.header == {'imagesource': 'GoogleEarth', 'gsd': None}
    assert labels.names == ['plane', 'ship'] and labels.difficult.tolist() == [1, 0]  # no flag reads as 0
    assert labels.polys.shape == (2, 8) and labels.polys[0, 7] == 8


@pytest.mark.parametrize('line, message', [
    ('1 2 3 4 5 6 7 plane 0', 'a.txt:2: expected "x1 y1'),
    ('1 2 3 4 5 6 7 x plane 0', 'a.txt:2: expected'),
    ('1 2 3 4 5 6 7 8 plane hard', 'a.txt:2: expected'),
    ('1 2 3 4 5 6 7 8 boat 0', "a.txt:2: unknown category 'boat'.*--skip-unknown"),
])
def test_bad_label_lines_name_file_and_line(tmp_path, line, message):
    txt = tmp_path / 'a.txt'
    txt.write_text(f'gsd:0.5\n{line}\n')
    with pytest.raises(DOTAFormatError, match=message):
        parse_dota_txt(str(txt), CLASSES)


def test_unknown_categories_can_be_skipped_and_counted(tmp_path):
    txt = tmp_path / 'a.txt'
    txt.write_text('1 2 3 4 5 6 7 8 boat 0\n1 2 3 4 5 6 7 8 ship 0\n1 2 3 4 5 6 7 8 boat 0\n')
    labels = parse_dota_txt(str(txt), CLASSES, skip_unknown=True)
    assert labels.names == ['ship'] and labels.num_unknown == 2


@pytest.mark.parametrize('length, starts', [
    (100, [0]),  # shorter than a patch: one (padded) window
    (128, [0]),
    (129, [0, 1]),  # the last window is moved back to the border
    (224, [0, 96]),  # step 96 fits exactly
    (300, [0, 96, 172]),
])
def test_window_starts(length, starts):
    assert window_starts(length, 128, 32) == starts
    ends = [s + 128 for s in starts]
    assert max(ends) == max(length, 128)  # the last window ends at the border
    assert all(b - a <= 96 for a, b in zip(starts, starts[1:]))  # neighbours overlap by >= gap


def test_window_rejects_gap_not_smaller_than_patch():
    with pytest.raises(ValueError, match='gap must be in'):
        window_starts(500, 128, 128)


def test_sliding_windows_cover_the_image():
    windows = sliding_windows(300, 140, 128, 32)
    assert windows.shape == (3 * 2, 4) and (windows[:, 2:] - windows[:, :2] == 128).all()
    covered = np.zeros((140, 300), bool)
    for x0, y0, x1, y1 in windows:
        covered[y0:y1, x0:x1] = True
    assert covered.all()


def test_clip_polygon_and_iof():
    square = np.array([[10., 10], [30, 10], [30, 30], [10, 30]])
    clipped = clip_polygon(square, (0, 0, 20, 100))
    assert polygon_area(clipped) == pytest.approx(200)  # half of it is left of x=20
    assert len(clip_polygon(square, (40, 40, 50, 50))) == 0
    diamond = np.array([[20., 0], [40, 20], [20, 40], [0, 20]])
    assert polygon_area(clip_polygon(diamond, (0, 0, 30, 30))) == pytest.approx(800 - 2 * 100)  # two corners cut


def test_crop_objects_keeps_clips_and_flags_truncation():
    polys = np.array([
        [10, 10, 30, 10, 30, 30, 10, 30],  # inside
        [90, 10, 130, 10, 130, 30, 90, 30],  # 3/4 inside x < 120
        [110, 40, 150, 40, 150, 60, 110, 60],  # 1/4 inside
        [200, 200, 210, 200, 210, 210, 200, 210],  # outside
    ], np.float64)
    keep, quads, truncated = crop_objects(polys, (0, 0, 120, 120), iof_thr=0.7)
    assert keep.tolist() == [0, 1] and truncated.tolist() == [False, True]
    assert np.allclose(quads[0], polys[0])  # window at the origin: same coordinates
    assert np.allclose(quads[1], [90, 10, 120, 10, 120, 30, 90, 30])  # clipped, first corner kept first
    keep, _, _ = crop_objects(polys, (0, 0, 120, 120), iof_thr=0.2)
    assert keep.tolist() == [0, 1, 2]


def test_corner_cut_polygon_is_reduced_to_four_corners():
    diamond = np.array([[60, 0, 120, 60, 60, 120, 0, 60]], np.float64)  # cut at x=100 and y=100: 6 corners
    keep, quads, _ = crop_objects(diamond, (0, 0, 100, 100), iof_thr=0.5)
    assert keep.tolist() == [0] and quads.shape == (1, 8)
    quad = quads[0].reshape(4, 2)
    assert (quad >= 0).all() and (quad <= 100).all()  # stays inside the window
    assert np.allclose(quad[0], [60, 0])  # the original first corner is still first


def test_patch_name_round_trip_and_mmrotate_regex():
    name = patch_name('P0003', 0.5, 412, 0)
    assert name == 'P0003__0.5__412___0' and patch_name('P1', 1.0, 0, 96) == 'P1__1__0___96'
    assert parse_patch_name(name) == ('P0003', 0.5, 412, 0)
    assert parse_patch_name('a__b__1.5__7___9') == ('a__b', 1.5, 7, 9)
    # mmrotate's DOTAMetric.merge_results reads the offset with this pattern and the name before '__'
    x_y = re.findall(r'\d+', re.findall(r'__\d+___\d+', name)[0])
    assert (int(x_y[0]), int(x_y[1])) == (412, 0) and name.split('__')[0] == 'P0003'
    with pytest.raises(ValueError, match='not a DOTA patch name'):
        parse_patch_name('P0003')


@pytest.mark.parametrize('rates', [(1.0, ), (0.5, 1.0, 1.5)])
def test_patch_labels_map_back_to_the_image(raw, rates):
    labels = parse_dota_txt(osp.join(raw, 'train', 'labelTxt', 'P0000.txt'), CLASSES)
    img = cv2.imread(osp.join(raw, 'train', 'images', 'P0000.png'))
    patches = list(split_image(img, labels, patch_size=128, gap=64, rates=rates))
    assert {p.rate for p in patches} == set(rates)
    seen = set()
    for p in patches:
        assert p.img.shape == (128, 128, 3)
        for poly, name, flag in zip(p.labels.polys, p.labels.names, p.labels.difficult):
            back = (poly + (p.x, p.y) * 4) / p.rate
            match = np.abs(labels.polys - back).max(1) < 1e-6
            if flag != 2:  # whole objects map back exactly, with their category and flag
                i = int(np.flatnonzero(match)[0])
                assert labels.names[i] == name and labels.difficult[i] == flag
                seen.add((p.rate, i))
    # every object inside the image is whole in some patch at every scale (its extent is at most 42 px,
    # 63 px at rate 1.5, and windows overlap by 64 px); a few drawn objects reach past the border
    corners = labels.polys.reshape(-1, 4, 2)
    in_image = ((corners >= 0) & (corners <= (img.shape[1], img.shape[0]))).all((1, 2))
    assert in_image.sum() >= 3
    assert seen == {(r, i) for r in rates for i in np.flatnonzero(in_image)}


def test_pixels_of_a_patch_are_the_window_of_the_resized_image(raw):
    img = cv2.imread(osp.join(raw, 'train', 'images', 'P0000.png'))
    for p in split_image(img, None, patch_size=128, gap=64, rates=(1.0, )):
        assert (p.img == img[p.y:p.y + 128, p.x:p.x + 128]).all()


def test_small_image_is_padded_at_the_right_and_bottom_with_fill():
    img = np.full((50, 60, 3), 7, np.uint8)
    labels = DOTALabels(np.array([[5., 5, 20, 5, 20, 15, 5, 15]]), ['ship'], np.array([0]))
    (patch, ) = split_image(img, labels, patch_size=64, gap=16, fill=(104, 116, 124))
    assert patch.img.shape == (64, 64, 3) and (patch.img[:50, :60] == 7).all()
    assert (patch.img[50:] == (104, 116, 124)).all() and (patch.img[:, 60:] == (104, 116, 124)).all()
    assert patch.labels.names == ['ship'] and np.allclose(patch.labels.polys, labels.polys)


def test_split_dota_writes_the_mmrotate_layout(raw, tmp_path):
    out = str(tmp_path / 'split')
    counts = split_dota([osp.join(raw, s, 'images') for s in ('train', 'val')], out,
                        [osp.join(raw, s, 'labelTxt') for s in ('train', 'val')], patch_size=128, gap=32,
                        rates=(0.5, 1.0), fill=(104, 116, 124), nproc=2)
    patches = sorted(os.listdir(osp.join(out, 'images')))
    assert counts['images'] == 4 and counts['patches'] == len(patches) > 4
    assert counts['empty_patches_dropped'] > 0  # without --save-empty
    assert sorted(os.listdir(osp.join(out, 'annfiles'))) == [p.replace('.png', '.txt') for p in patches]
    assert {parse_patch_name(p[:-4])[1] for p in patches} == {0.5, 1.0}
    with open(osp.join(out, 'meta.json')) as f:
        meta = json.load(f)
    assert meta['images']['P0000']['header'] == {'imagesource': 'GoogleEarth', 'gsd': 0.146343590398}
    assert meta['params']['rates'] == [0.5, 1.0] and meta['counts'] == counts

    from mmengine.registry import init_default_scope
    init_default_scope('mmrotate')
    from mmrotate.datasets import DOTADataset  # reads the patches as mmrotate's configs do
    ds = DOTADataset(data_root=out, ann_file='annfiles/', data_prefix=dict(img_path='images/'),
                     metainfo=dict(classes=CLASSES), pipeline=[])
    assert len(ds) == len(patches) and all(ds.get_data_info(i)['instances'] for i in range(len(ds)))


def test_split_dota_test_images_keep_every_patch(raw, tmp_path):
    out = str(tmp_path / 'test')
    counts = split_dota(osp.join(raw, 'test', 'images'), out, patch_size=128, gap=32)
    img = cv2.imread(osp.join(raw, 'test', 'images', os.listdir(osp.join(raw, 'test', 'images'))[0]))
    assert counts['patches'] == len(sliding_windows(img.shape[1], img.shape[0], 128, 32))
    assert not osp.exists(osp.join(out, 'annfiles'))


def test_split_dota_refuses_to_mix_outputs(raw, tmp_path):
    out = str(tmp_path / 'split')
    split_dota(osp.join(raw, 'test', 'images'), out, patch_size=256, gap=32)
    with pytest.raises(FileExistsError, match='is not empty'):
        split_dota(osp.join(raw, 'test', 'images'), out, patch_size=256, gap=32)


def _copy_split(raw, tmp_path, split='train'):
    import shutil
    root = tmp_path / 'copy'
    shutil.copytree(osp.join(raw, split), root)
    return root


def test_missing_label_file_is_an_error_or_counted(raw, tmp_path):
    root = _copy_split(raw, tmp_path)
    os.remove(root / 'labelTxt' / 'P0001.txt')
    with pytest.raises(FileNotFoundError, match=r'P0001.txt does not exist for image .*--allow-missing-labels'):
        split_dota(str(root / 'images'), str(tmp_path / 'a'), str(root / 'labelTxt'), patch_size=256, gap=32)
    counts = split_dota(str(root / 'images'), str(tmp_path / 'b'), str(root / 'labelTxt'), patch_size=256, gap=32,
                        allow_missing_labels=True)
    assert counts['missing_label_files'] == 1 and counts['images'] == 2


def test_bad_label_fails_before_any_patch_is_written(raw, tmp_path):
    root = _copy_split(raw, tmp_path)
    with open(root / 'labelTxt' / 'P0001.txt', 'a') as f:
        f.write('1 2 3 4 5 6 7 8 boat 0\n')
    with pytest.raises(DOTAFormatError, match=r"P0001.txt:\d+: unknown category 'boat'"):
        split_dota(str(root / 'images'), str(tmp_path / 'a'), str(root / 'labelTxt'), patch_size=256, gap=32)
    assert not osp.exists(tmp_path / 'a' / 'images')
    counts = split_dota(str(root / 'images'), str(tmp_path / 'b'), str(root / 'labelTxt'), patch_size=256, gap=32,
                        skip_unknown=True)
    assert counts['unknown_objects_skipped'] == 1


def test_corrupted_image_is_named(raw, tmp_path):
    root = _copy_split(raw, tmp_path)
    (root / 'images' / 'P0001.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    with pytest.raises(OSError, match=r'P0001.png cannot be decoded as an image'):
        split_dota(str(root / 'images'), str(tmp_path / 'a'), str(root / 'labelTxt'), patch_size=256, gap=32)


def test_cli(raw, tmp_path, capsys):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'dota_split_cli', osp.join(osp.dirname(__file__), '..', '..', 'tools', 'dataset_converters', 'dota_split.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = str(tmp_path / 'cli')
    cli.main(['--img-dirs', osp.join(raw, 'val', 'images'), '--ann-dirs', osp.join(raw, 'val', 'labelTxt'),
              '--out-dir', out, '--patch-size', '128', '--gap', '32', '--rates', '1.0', '1.5', '--save-empty',
              '--fill', '104', '116', '124', '--trunc-difficult', '-1'])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith('dota-split images=2 patches=') and 'empty_patches_dropped=0' in line
    with open(osp.join(out, 'meta.json')) as f:
        params = json.load(f)['params']
    assert params['fill'] == [104, 116, 124] and params['trunc_difficult'] is None and params['save_empty']
