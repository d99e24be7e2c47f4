import filecmp
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmrsfm.datasets.synthetic import DOTA_V2_CLASSES, make_dota, rotated_rect_corners


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
