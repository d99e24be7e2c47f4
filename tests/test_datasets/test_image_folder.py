import os

import cv2
import numpy as np
import pytest

from mmrsfm.datasets import MultiModalImageFolder
from mmrsfm.datasets.synthetic import make_optical_sar_pairs

PIPELINE = [dict(type='mmrsfm.LoadMultiModalImages'), dict(type='mmrsfm.PairedRandomCropFlip', crop_size=(16, 16)),
            dict(type='mmrsfm.PackMultiModalInputs')]


def test_paired_folder_yields_aligned_modalities(tmp_path, log_messages):
    root = str(tmp_path)
    make_optical_sar_pairs(root, num_train=3, size=32)
    cv2.imwrite(os.path.join(root, 'optical', 'lonely.png'), np.zeros((32, 32, 3), np.uint8))
    ds = MultiModalImageFolder(data_root=root, modalities=('opt', 'sar'),
                               data_prefix=dict(opt='optical/', sar='sar/'), pipeline=PIPELINE)
    assert len(ds) == 3  # the unpaired optical image is skipped, and counted in the log
    assert any('skipped 1 image(s) without a counterpart' in m for m in log_messages)
    item = ds[0]
    assert item['inputs']['opt'].shape == (3, 16, 16) and item['inputs']['sar'].shape == (1, 16, 16)
    sar_only = MultiModalImageFolder(data_root=root, modalities=('sar', ), data_prefix=dict(sar='sar/'),
                                     pipeline=PIPELINE)
    assert len(sar_only) == 3 and set(sar_only[1]['inputs']) == {'sar'}


def test_bad_folders_and_pairs(tmp_path):
    root = str(tmp_path)
    make_optical_sar_pairs(root, num_train=2, size=32)
    with pytest.raises(KeyError, match=r"data_prefix has no folder for modalities \['sar'\]"):
        MultiModalImageFolder(data_root=root, modalities=('opt', 'sar'), data_prefix=dict(opt='optical/'))
    cv2.imwrite(os.path.join(root, 'sar', '00001.png'), np.zeros((20, 20), np.uint8))
    ds = MultiModalImageFolder(data_root=root, modalities=('opt', 'sar'),
                               data_prefix=dict(opt='optical/', sar='sar/'), pipeline=PIPELINE)
    with pytest.raises(ValueError, match=r"paired images of '00001' differ in size"):
        ds[1]
    with open(os.path.join(root, 'optical', '00000.png'), 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(ValueError, match=r"could not read image '.*00000.png'"):
        ds[0]


def test_recursive_folders_pair_by_relative_path(tmp_path):
    """MillionAID-style category trees: with ``recursive`` the images in subfolders are samples, and
    paired modalities match by path relative to their folder (equal file names in two categories stay
    two samples)."""
    img = np.zeros((16, 16, 3), np.uint8)
    for mod in ('optical', 'sar'):
        for rel in ('top.png', 'farm/field/a.png', 'water/a.png', 'water/lake/b.jpg'):
            path = tmp_path / mod / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), img if mod == 'optical' else img[..., 0])
    (tmp_path / 'optical' / 'farm' / 'notes.txt').write_text('not an image')
    kwargs = dict(data_root=str(tmp_path), data_prefix=dict(opt='optical/', sar='sar/'), pipeline=PIPELINE)
    flat = MultiModalImageFolder(modalities=('opt', 'sar'), **kwargs)
    ids = lambda ds: [ds.get_data_info(i)['img_id'] for i in range(len(ds))]  # noqa: E731
    assert ids(flat) == ['top']
    deep = MultiModalImageFolder(modalities=('opt', 'sar'), recursive=True, **kwargs)
    assert ids(deep) == ['farm/field/a', 'top', 'water/a', 'water/lake/b']
    sample = deep.get_data_info(3)['img_path']
    assert sample['opt'].endswith('optical/water/lake/b.jpg') and sample['sar'].endswith('sar/water/lake/b.jpg')
    assert deep[0]['inputs']['sar'].shape == (1, 16, 16)


def test_same_name_with_two_extensions_is_an_error(tmp_path):
    """x.png and x.jpg would be one sample with one file lost: refused, naming both files."""
    (tmp_path / 'optical').mkdir()
    for ext in ('png', 'jpg'):
        cv2.imwrite(str(tmp_path / 'optical' / f'x.{ext}'), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"optical/x.jpg' and '.*optical/x.png' differ only by extension"):
        MultiModalImageFolder(data_root=str(tmp_path), data_prefix=dict(opt='optical/'), pipeline=PIPELINE)
