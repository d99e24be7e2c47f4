import filecmp
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmrsfm.datasets.dota_split import DOTA_V2_CLASSES
from mmrsfm.datasets.synthetic import make_dota, rotated_rect_corners


def test_corners_are_clockwise_and_sized():
    poly = rotated_rect_corners(50, 40, 20, 10, np.pi / 6)
    edges = np.roll(poly, -1, 0) - poly
    assert np.allclose(np.linalg.norm(edges, axis=1), [20, 10, 20, 10])
    # positive shoelace area in image coordinates (y down) == clockwise on screen
    area = 0.5 * np.sum(poly[:, 0] * np.roll(poly[:, 1], -1) - np.roll(poly[:, 0], -1) * poly[:, 1])
    assert area == pytest.approx(200)


def test_dota_files_are_deterministic_and_parse_with_mmrotate(tmp_path):
    a = make_dota(str(tmp_path / 'a'), num_train=6, num_val=2, seed=3)
    b = make_dota(str(tmp_path / 'b'), num_train=6, num_val=2, seed=3)
    for split in ('train', 'val'):
        for sub in ('images', 'annfiles'):
            cmp = filecmp.dircmp(osp.join(a[split], sub), osp.join(b[split], sub))
            assert not cmp.diff_files and not cmp.left_only and cmp.common_files

    init_default_scope('mmrotate')
    from mmrotate.datasets import DOTAv2Dataset
    ds = DOTAv2Dataset(data_root=str(tmp_path / 'a'), ann_file='train/annfiles/',
                       data_prefix=dict(img_path='train/images/'), pipeline=[])
    assert len(ds) == 6
    labels = {inst['bbox_label'] for i in range(6) for inst in ds.get_data_info(i)['instances']}
    names = {DOTA_V2_CLASSES[i] for i in labels}
    assert names <= {'plane', 'ship', 'storage-tank'} and len(names) >= 2


def test_unknown_class_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"\['boat'\] are not DOTA v2.0 categories"):
        make_dota(str(tmp_path), classes=('plane', 'boat'))


def test_loveda_layout_reads_with_mmseg(tmp_path):
    from mmrsfm.datasets.synthetic import make_loveda
    make_loveda(str(tmp_path), num_train=3, num_val=1, size=32)
    init_default_scope('mmseg')
    from mmseg.datasets import LoveDADataset
    ds = LoveDADataset(data_root=str(tmp_path), data_prefix=dict(img_path='img_dir/train',
                                                                 seg_map_path='ann_dir/train'),
                       pipeline=[dict(type='LoadAnnotations', reduce_zero_label=True)])
    assert len(ds) == 3
    seg = ds[0]['gt_seg_map']
    assert seg.shape == (32, 32) and (seg[0] == 255).all()  # no-data row -> ignore index
    assert set(np.unique(seg[1:])) <= set(range(7)) and 0 in seg[1:]


def test_coco_instances_read_with_mmdet(tmp_path):
    from mmrsfm.datasets.synthetic import make_coco_instances
    files = make_coco_instances(str(tmp_path), num_train=3, num_val=1)
    init_default_scope('mmdet')
    from mmdet.datasets import CocoDataset
    ds = CocoDataset(data_root=str(tmp_path), ann_file=files['train'], data_prefix=dict(img='images/train/'),
                     metainfo=dict(classes=('airplane', 'ship', 'storage tank')), pipeline=[])
    assert len(ds) == 3
    inst = ds.get_data_info(0)['instances'][0]
    assert len(inst['mask'][0]) == 8 and inst['bbox'][2] > inst['bbox'][0]


def test_dior_r_layout_reads_with_mmrotate(tmp_path):
    from mmrsfm.datasets.dior_r import DIOR_R_CLASSES
    from mmrsfm.datasets.synthetic import make_dior_r
    sets = make_dior_r(str(tmp_path), num_train=3, num_val=2, num_test=2, size=64,
                       classes=('airplane', 'expressway-service-area'), max_objects=6, seed=1)
    assert sorted(os.listdir(tmp_path)) == ['Annotations', 'ImageSets', 'JPEGImages-test', 'JPEGImages-trainval']
    assert sorted(sets) == ['test', 'train', 'val']  # the release has no trainval.txt
    with open(sets['test']) as f:
        assert f.read().split() == ['00006', '00007']  # test ids follow the trainval ids
    xml = (tmp_path / 'Annotations' / 'Oriented Bounding Boxes' / '00001.xml').read_text()
    for field in ('<type>robndbox</type>', '<x_left_top>', '<y_right_bottom>', '<difficult>0</difficult>',
                  '<width>64</width>'):
        assert field in xml

    init_default_scope('mmrotate')
    from mmrotate.datasets import DIORDataset
    ds = DIORDataset(data_root=str(tmp_path), ann_file='ImageSets/Main/train.txt',
                     data_prefix=dict(img_path='JPEGImages-trainval'), pipeline=[])
    assert len(ds) == 3 and osp.isfile(ds[0]['img_path'])
    labels = {DIOR_R_CLASSES[i['bbox_label']] for k in range(3) for i in ds.get_data_info(k)['instances']}
    assert 'expressway-service-area' in labels <= {'airplane', 'expressway-service-area'}
    xmls = ''.join(p.read_text() for p in (tmp_path / 'Annotations' / 'Oriented Bounding Boxes').iterdir())
    assert '<name>Expressway-Service-area</name>' in xmls  # spelled as released; mmrotate lower-cases it
    inst = ds.get_data_info(0)['instances'][0]
    assert len(inst['bbox']) == 8 and inst['ignore_flag'] == 0


def test_dataset_facts_match_the_toolboxes():
    from mmrotate.datasets import DIORDataset, DOTAv2Dataset
    from mmseg.datasets import LoveDADataset

    from mmrsfm.datasets.dior_r import DIOR_R_CLASSES
    from mmrsfm.datasets.loveda_official import LOVEDA_CLASSES
    assert DOTA_V2_CLASSES == tuple(DOTAv2Dataset.METAINFO['classes'])  # indices of mmrotate's labels
    assert DIOR_R_CLASSES == tuple(DIORDataset.METAINFO['classes'])
    assert LOVEDA_CLASSES == tuple(LoveDADataset.METAINFO['classes'])


def test_real_code_never_imports_the_synthetic_writers():
    """Dataset facts flow from the dataset modules into the writers, never back."""
    import ast

    import mmrsfm
    root = osp.dirname(mmrsfm.__file__)
    offenders = []
    for folder, _, files in os.walk(root):
        if osp.join('datasets', 'synthetic') in folder:
            continue
        for name in (f for f in files if f.endswith('.py')):
            path = osp.join(folder, name)
            with open(path) as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    dotted = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):  # `from .synthetic.x import y`, `from . import synthetic`
                    dotted = [f'{node.module or ""}.{a.name}' for a in node.names]
                else:
                    continue
                if any('synthetic' in d.split('.') for d in dotted):
                    offenders.append(f'{osp.relpath(path, root)}:{node.lineno}')
    assert not offenders, offenders
