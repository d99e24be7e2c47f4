"""No silent instance drops: malformed polygons (odd coordinate count, fewer than 3 points, zero area,
outside the image) and boxes mmdet skips are counted and logged with the file and annotation id by
``CheckedCocoDataset`` and the NWPU VHR-10 converter; a file in which nothing is valid is an error."""
import json
import os.path as osp

import pytest
from mmengine.registry import DATASETS, init_default_scope

from mmrsfm.datasets.converters import NWPU_VHR10_CLASSES, split_nwpu_instances
from mmrsfm.datasets.file_checks import DatasetFormatError, polygon_problem
from mmrsfm.datasets.synthetic import make_nwpu_vhr10

SQUARE = [10.0, 10.0, 30.0, 10.0, 30.0, 30.0, 10.0, 30.0]


@pytest.mark.parametrize('poly, problem', [
    (SQUARE, None),
    (SQUARE[:-1], 'odd number of coordinates (7)'),
    (SQUARE[:4], 'fewer than 3 points (2)'),
    ([10.0, 10.0, 20.0, 20.0, 30.0, 30.0], 'zero area'),
    ([x + 500 for x in SQUARE], 'entirely outside the 64x64 image'),
    ([-5.0, -5.0, 20.0, -5.0, 20.0, 20.0], None),  # partly outside: rasterised clipped, kept
])
def test_polygon_problems(poly, problem):
    assert polygon_problem(poly, 64, 64) == problem


@pytest.fixture
def nwpu(tmp_path):
    root = str(tmp_path / 'nwpu')
    make_nwpu_vhr10(root, num_train=4, num_val=2, size=64, seed=1)
    return root


def _edit(path: str, edit) -> dict:
    with open(path) as f:
        data = json.load(f)
    edit(data)
    with open(path, 'w') as f:
        json.dump(data, f)
    return data


def dataset(root: str, **kwargs):
    init_default_scope('mmdet')
    return DATASETS.build(dict(type='mmrsfm.CheckedCocoDataset', ann_file=osp.join(root, 'annotations.json'),
                               data_prefix=dict(img=osp.join(root, 'positive image set')),
                               metainfo=dict(classes=NWPU_VHR10_CLASSES), pipeline=[], **kwargs))


def _break_two(data: dict) -> None:
    first, second = data['annotations'][0], data['annotations'][1]
    first['segmentation'] = [first['segmentation'][0][:-1]]  # an odd coordinate count: the whole object
    second['segmentation'] = second['segmentation'] + [[1.0, 2.0, 3.0, 4.0]]  # one bad part of two


def test_checked_coco_counts_and_logs_malformed_polygons_with_ids(nwpu, log_messages):
    data = _edit(osp.join(nwpu, 'annotations.json'), _break_two)
    ds = dataset(nwpu, test_mode=True)
    log = '\n'.join(log_messages)
    assert 'annotations.json: 2 invalid polygon(s) removed' in log
    assert "id 1 (001.jpg): polygon 0: odd number of coordinates (7)" in log
    assert "id 2 (001.jpg): polygon 1: fewer than 3 points (2)" in log
    assert f"1 of {len(data['annotations'])} annotation(s) dropped [id 1 (001.jpg): no valid polygon left]" in log
    assert 'mmdet would drop these without a message' in log
    first = ds.get_data_info([i for i in range(len(ds)) if ds.get_data_info(i)['img_id'] == 1][0])
    assert len(first['instances']) == sum(a['image_id'] == 1 for a in data['annotations']) - 1
    assert all(len(p) >= 6 and len(p) % 2 == 0 for inst in first['instances'] for p in inst['mask'])
    with pytest.raises(DatasetFormatError, match=r'id 1 \(001\.jpg\): polygon 0: odd number of coordinates'):
        dataset(nwpu, test_mode=True, invalid_instances='error')


def test_boxes_mmdet_skips_are_counted(nwpu, log_messages):
    def degenerate(data):
        data['annotations'][0]['bbox'][2] = 0.5
        data['annotations'][1]['bbox'] = [200.0, 200.0, 10.0, 10.0]
    _edit(osp.join(nwpu, 'annotations.json'), degenerate)
    dataset(nwpu, test_mode=True)
    log = '\n'.join(log_messages)
    assert 'id 1 (001.jpg): bbox' in log and 'mmdet skips w < 1, h < 1, area <= 0' in log
    assert 'id 2 (001.jpg): bbox [200.0, 200.0, 10.0, 10.0] outside the 64x64 image' in log


def test_every_object_malformed_is_an_error_not_empty_images(nwpu):
    def odd_everywhere(data):
        for ann in data['annotations']:
            ann['segmentation'] = [p[:-1] for p in ann['segmentation']]
    data = _edit(osp.join(nwpu, 'annotations.json'), odd_everywhere)
    with pytest.raises(DatasetFormatError) as err:
        dataset(nwpu)
    msg = str(err.value)
    assert f"{len(data['annotations'])} of {len(data['annotations'])} annotation(s) dropped" in msg
    assert 'Every annotation would be dropped, so images would train without objects' in msg
    assert 'Fix: regenerate the annotation file' in msg


def test_images_that_lose_every_object_are_filtered_and_logged(nwpu, log_messages):
    def break_image_1(data):
        for ann in data['annotations']:
            if ann['image_id'] == 1:
                ann['segmentation'] = [[1.0, 1.0, 2.0]]
    _edit(osp.join(nwpu, 'annotations.json'), break_image_1)
    ds = dataset(nwpu, filter_cfg=dict(filter_empty_gt=True))
    assert 1 not in {ds.get_data_info(i)['img_id'] for i in range(len(ds))} and len(ds) == 5
    log = '\n'.join(log_messages)
    assert "1 image(s) lost every object, e.g. ['001.jpg']" in log
    assert 'skipped 1 by filter_cfg' in log and '1 of them because every annotation was invalid' in log


def test_nwpu_converter_leaves_malformed_instances_out_and_says_so(nwpu, log_messages):
    ann_file = osp.join(nwpu, 'annotations.json')
    data = _edit(ann_file, _break_two)
    written = split_nwpu_instances(ann_file, val_ratio=0.3, seed=0)
    out = [json.load(open(p)) for p in written.values()]
    assert sum(len(d['annotations']) for d in out) == len(data['annotations']) - 1
    kept = [a for d in out for a in d['annotations']]
    assert 1 not in {a['id'] for a in kept}
    assert [a['segmentation'] for a in kept if a['id'] == 2] == [data['annotations'][1]['segmentation'][:1]]
    log = '\n'.join(log_messages)
    assert 'id 1 (001.jpg): no valid polygon left' in log and 'left out of the converted files' in log

    def odd_everywhere(d):
        for ann in d['annotations']:
            ann['segmentation'] = [[1.0, 2.0, 3.0]]
    _edit(ann_file, odd_everywhere)
    with pytest.raises(DatasetFormatError, match='No valid instance is left'):
        split_nwpu_instances(ann_file)


def test_dota_split_counts_and_logs_objects_no_patch_can_hold(tmp_path, log_messages):
    from mmrsfm.datasets.dota_split import split_dota
    from mmrsfm.datasets.synthetic import make_dota_raw
    raw = tmp_path / 'DOTA'
    make_dota_raw(str(raw), num_train=1, num_val=1, num_test=1, size=160, seed=0)
    txt = sorted((raw / 'train' / 'labelTxt').iterdir())[0]
    with open(txt, 'a') as f:
        f.write('10 10 20 20 30 30 40 40 plane 0\n')  # collinear corners: zero area
        f.write('500 500 520 500 520 520 500 520 ship 0\n')  # beyond the 160x160 image
    counts = split_dota(str(raw / 'train' / 'images'), str(tmp_path / 'out'), str(raw / 'train' / 'labelTxt'),
                        patch_size=128, gap=32)
    assert counts['zero_area_objects_dropped'] == 1 and counts['objects_outside_image'] == 1
    log = '\n'.join(log_messages)
    objects = sum(1 for line in open(txt) if len(line.split()) >= 9)
    assert f'1 of zero area: {txt} (object {objects - 1})' in log
    assert f'1 entirely outside their image: {txt.stem}.png (1)' in log
