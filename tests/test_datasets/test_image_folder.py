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
