"""COCO instance converters (WHU building, NWPU VHR-10, SSDD) and mmrsfm.CheckedCocoDataset."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from mmrsfm.datasets.converters import (NWPU_VHR10_CLASSES, check_ssdd, convert_nwpu_boxes, convert_whu_building,
                                        mask_to_instances, parse_nwpu_ground_truth, segmentation_to_mask,
                                        split_nwpu_instances, ssdd_split_of)
from mmrsfm.datasets.file_checks import DatasetFormatError
from mmrsfm.datasets.synthetic import make_nwpu_vhr10, make_ssdd, make_whu_building


def components(mask: np.ndarray, connectivity: int = 8) -> list:
    num, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=connectivity)
    return [labels == i for i in range(1, num)]


@pytest.mark.parametrize('connectivity', [4, 8])
def test_instances_rasterise_back_to_exactly_their_pixels(connectivity):
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(40):
        mask = rng.random((24, 24)) < 0.45  # ragged shapes: saddles, holes, single pixels
        anns, dropped = mask_to_instances(mask, connectivity=connectivity)
        comps = components(mask, connectivity)
        assert dropped == 0 and len(anns) == len(comps)
        for ann, comp in zip(anns, comps):
            kinds.add(type(ann['segmentation']).__name__)
            assert np.array_equal(segmentation_to_mask(ann['segmentation'], 24, 24), comp)
            assert ann['area'] == comp.sum()
            ys, xs = np.nonzero(comp)
            assert ann['bbox'] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
    assert kinds == {'list', 'dict'}  # polygons, and RLE for instances with holes


def test_courtyard_becomes_rle_and_plain_building_a_polygon():
    mask = np.zeros((20, 40), bool)
    mask[2:12, 2:12] = True
    mask[5:8, 5:8] = False  # courtyard
    mask[3:9, 20:35] = True
    anns, _ = mask_to_instances(mask)
    assert isinstance(anns[0]['segmentation'], dict) and anns[0]['area'] == 100 - 9
    assert anns[1]['segmentation'] == [[20.0, 3.0, 35.0, 3.0, 35.0, 9.0, 20.0, 9.0]]  # pixel edges, 4 corners
    anns, dropped = mask_to_instances(mask, min_area=91)  # the 6x15 rectangle (90 px) is dropped
    assert dropped == 1 and len(anns) == 1 and anns[0]['area'] == 91


@pytest.fixture
def whu(tmp_path) -> str:
    make_whu_building(str(tmp_path), num_train=6, num_val=3, size=96, seed=1)
    return str(tmp_path)


def test_whu_converter_writes_exact_coco_instances(whu):
    written = convert_whu_building(whu, min_area=0)
    assert sorted(written) == ['train', 'val']
    coco = COCO(written['train'])  # pycocotools loads it
    assert coco.loadCats(coco.getCatIds()) == [dict(id=1, name='building', supercategory='building')]
    kinds = set()
    for img in coco.loadImgs(coco.getImgIds()):
        label = cv2.imread(osp.join(whu, 'train', 'label', img['file_name']), cv2.IMREAD_UNCHANGED)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img['id']))
        comps = components(label == 255)
        assert len(anns) == len(comps)
        for ann, comp in zip(anns, comps):
            kinds.add(type(ann['segmentation']).__name__)
            assert np.array_equal(coco.annToMask(ann).astype(bool), comp)  # polygons' areas match the masks
            assert ann['area'] == comp.sum()
    assert kinds == {'list', 'dict'}


def test_whu_min_area_drops_slivers(whu):
    small = json.load(open(convert_whu_building(whu, out_dir=osp.join(whu, 'a'), min_area=0)['train']))
    large = json.load(open(convert_whu_building(whu, out_dir=osp.join(whu, 'b'), min_area=10)['train']))
    assert min(a['area'] for a in small['annotations']) < 10 <= min(a['area'] for a in large['annotations'])
    assert len(large['annotations']) < len(small['annotations'])


def test_whu_bad_labels_are_errors_naming_the_file(whu):
    label = osp.join(whu, 'val', 'label', '7.tif')
    img = cv2.imread(label, cv2.IMREAD_UNCHANGED)
    img[0, :5] = 3  # an unknown class value
    cv2.imwrite(label, img)
    with pytest.raises(DatasetFormatError, match=r"val/label/7.tif' has label values \{3: 5\}"):
        convert_whu_building(whu, splits=('val', ))
    img[0, :5] = 0
    cv2.imwrite(label, img[:, :90])
    with pytest.raises(DatasetFormatError, match=r"val/image/7.tif' is 96x96 \(HxW\) but its label .* is 96x90"):
        convert_whu_building(whu, splits=('val', ))
    os.remove(label)
    with pytest.raises(FileNotFoundError, match=r"val/image/7.tif' has no label"):
        convert_whu_building(whu, splits=('val', ))


def test_nwpu_ground_truth_parsing(tmp_path):
    gt = tmp_path / '001.txt'
    gt.write_text('(563,478),(630,573),1\n( 10 , 20 ),( 40 , 60 ),10\n\n')
    assert parse_nwpu_ground_truth(str(gt)) == [dict(bbox=[563.0, 478.0, 67.0, 95.0], category_id=1),
                                                dict(bbox=[10.0, 20.0, 30.0, 40.0], category_id=10)]
    gt.write_text('(563,478),(630,573),1\n(1,2),(3,4),11\n')
    with pytest.raises(DatasetFormatError, match=r'001.txt:2: class id 11 is not an NWPU VHR-10 class'):
        parse_nwpu_ground_truth(str(gt))
    gt.write_text('563 478 630 573 1\n')
    with pytest.raises(DatasetFormatError, match=r"001.txt:1: '563 478 630 573 1' is not"):
        parse_nwpu_ground_truth(str(gt))


def test_nwpu_boxes_and_instances_share_one_split(tmp_path):
    root = str(tmp_path)
    make_nwpu_vhr10(root, num_train=7, num_val=3, size=64, num_negative=3)
    boxes = convert_nwpu_boxes(root, val_ratio=0.3, seed=5)
    masks = split_nwpu_instances(osp.join(root, 'annotations.json'), val_ratio=0.3, seed=5)
    for split in ('train', 'val'):
        box_coco, mask_coco = COCO(boxes[split]), COCO(masks[split])
        box_imgs = {i['file_name'] for i in box_coco.dataset['images']}
        positives = {osp.basename(f) for f in box_imgs if f.startswith('positive image set/')}
        assert positives == {i['file_name'] for i in mask_coco.dataset['images']}
        assert any(f.startswith('negative image set/') for f in box_imgs)
        assert [c['name'] for c in mask_coco.dataset['categories']] == list(NWPU_VHR10_CLASSES)
        assert all('segmentation' not in a for a in box_coco.dataset['annotations'])
        assert all(a['segmentation'] for a in mask_coco.dataset['annotations'])
    box = COCO(boxes['train'])
    img = box.dataset['images'][0]
    txt = osp.join(root, 'ground truth', osp.splitext(osp.basename(img['file_name']))[0] + '.txt')
    assert [a['bbox'] for a in box.loadAnns(box.getAnnIds(imgIds=img['id']))] == \
        [o['bbox'] for o in parse_nwpu_ground_truth(txt)]


def test_nwpu_instances_with_foreign_category_ids_are_rejected(tmp_path):
    data = dict(images=[], annotations=[], categories=[dict(id=1, name='airplane'), dict(id=12, name='car')])
    path = tmp_path / 'annotations.json'
    path.write_text(json.dumps(data))
    with pytest.raises(DatasetFormatError, match=r'category ids \[12\]'):
        split_nwpu_instances(str(path))


def test_ssdd_split_rule_and_check(tmp_path):
    assert [ssdd_split_of(f'{n:06d}.jpg') for n in (1, 2, 9, 10, 19, 1160)] == \
        ['test', 'train', 'test', 'train', 'test', 'train']
    make_ssdd(str(tmp_path), num_train=6, num_val=3, size=64)
    report = check_ssdd(str(tmp_path))
    assert report['train']['images'] == 6 and report['test']['images'] == 3
    assert report['train']['off_rule'] == report['test']['off_rule'] == 0
    base = osp.join(str(tmp_path), 'PSeg_SSDD', 'coco_style')
    os.remove(osp.join(base, 'images', 'test', '000009.jpg'))
    with pytest.raises(FileNotFoundError, match=r"test.json' names 1 image\(s\) missing .* \['000009.jpg'\]"):
        check_ssdd(str(tmp_path))


def checked_dataset(ann_file: str, img_dir: str, classes, **kwargs):
    from mmengine.registry import DATASETS, init_default_scope
    init_default_scope('mmdet')
    return DATASETS.build(dict(type='mmrsfm.CheckedCocoDataset', ann_file=ann_file, data_prefix=dict(img=img_dir),
                               metainfo=dict(classes=classes), pipeline=[], **kwargs))


def test_checked_coco_dataset_logs_filtering(whu, log_messages):
    label = osp.join(whu, 'train', 'label', '0.tif')
    cv2.imwrite(label, np.zeros((96, 96), np.uint8))  # a tile without buildings
    ann = convert_whu_building(whu)['train']
    img_dir = osp.join(whu, 'train', 'image')
    ds = checked_dataset(ann, img_dir, ('building', ), filter_cfg=dict(filter_empty_gt=True, min_size=0))
    assert len(ds) == 5
    assert any('kept 5 of 6 images, skipped 1 by filter_cfg' in m for m in log_messages)
    ds = checked_dataset(ann, img_dir, ('building', ), filter_cfg=dict(filter_empty_gt=False))
    assert len(ds) == 6
    ds = checked_dataset(ann, img_dir, ('building', ), test_mode=True)
    assert len(ds) == 6 and any('all 6 images used (1 without annotations' in m for m in log_messages)


def test_checked_coco_dataset_rejects_bad_annotations(whu):
    ann = convert_whu_building(whu)['val']
    img_dir = osp.join(whu, 'val', 'image')
    with pytest.raises(DatasetFormatError, match=r"categories \{'building': \d+\} .* are not dataset classes "
                                                 r"\('house',\)"):
        checked_dataset(ann, img_dir, ('house', ))
    with pytest.raises(DatasetFormatError, match=r"classes \['road'\] have no entry in 'categories'"):
        checked_dataset(ann, img_dir, ('building', 'road'))
    data = json.load(open(ann))
    data['images'][0]['file_name'] = 'missing.tif'
    json.dump(data, open(ann, 'w'))
    with pytest.raises(FileNotFoundError, match=r"names 1 image\(s\) missing .* \['missing.tif'\]"):
        checked_dataset(ann, img_dir, ('building', ))
    data['images'][0].update(file_name='7.tif', width=100)
    json.dump(data, open(ann, 'w'))
    with pytest.raises(DatasetFormatError, match=r"7.tif' is 96x96 but the file records 96x100"):
        checked_dataset(ann, img_dir, ('building', ))
    del data['annotations'][0]['area']
    json.dump(data, open(ann, 'w'))
    with pytest.raises(DatasetFormatError, match=r"annotation id 1 has no 'area'"):
        checked_dataset(ann, img_dir, ('building', ))
