"""iSAID: the release zips -> mmrsfm's converter -> mmseg's ``iSAIDDataset`` (patch names, windows,
8-bit class-index labels from the colour masks) and the converter's named errors."""
import io
import os
import os.path as osp
import zipfile

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image

from mmrsfm.datasets.converters import convert_isaid
from mmrsfm.datasets.file_checks import DatasetFormatError
from mmrsfm.datasets.synthetic import make_isaid

MASKS = osp.join('train', 'Semantic_masks', 'images.zip')


@pytest.fixture
def release(tmp_path) -> str:
    root = str(tmp_path / 'iSAID')
    make_isaid(root, num_train=2, num_val=1, size=48, seed=0)  # 48 x 64 px images
    return root


def _read_member(path: str, name: str) -> np.ndarray:
    with zipfile.ZipFile(path) as z:
        return np.asarray(Image.open(io.BytesIO(z.read(name))).convert('RGB'))


def _rewrite_member(path: str, name: str, rgb: np.ndarray = None) -> None:
    """Replace (or, with ``rgb`` None, drop) one member of a zip."""
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist() if n != name}
    if rgb is not None:
        buf = io.BytesIO()
        Image.fromarray(rgb.astype(np.uint8)).save(buf, format='PNG')
        members[name] = buf.getvalue()
    with zipfile.ZipFile(path, 'w') as z:
        for n, data in members.items():
            z.writestr(n, data)


def test_converter_writes_the_layout_iSAIDDataset_reads(release, tmp_path):
    out = str(tmp_path / 'data')
    counts = convert_isaid(release, out, crop_size=32, overlap=8)  # windows x 0, 24, 32; y 0, 16
    assert counts == dict(train=12, val=6, test=1)
    assert sorted(os.listdir(osp.join(out, 'img_dir', 'test'))) == ['P0003.png']
    from mmseg.datasets import iSAIDDataset
    rgb = _read_member(osp.join(release, MASKS), 'images/P0000_instance_color_RGB.png')
    palette = np.array(iSAIDDataset.METAINFO['palette'])
    ids = (rgb[..., None, :] == palette).all(-1).argmax(-1)  # each pixel's class by its colour
    ann = np.asarray(Image.open(osp.join(out, 'ann_dir', 'train', 'P0000_16_48_24_56_instance_color_RGB.png')))
    assert ann.dtype == np.uint8 and np.array_equal(ann, ids[16:48, 24:56])  # y0_y1_x0_x1, as mmseg names them
    assert len(np.unique(ann)) > 2  # 8-bit class indices (mmseg's converter collapses them to 1 bit on Pillow 13)

    init_default_scope('mmseg')
    ds = iSAIDDataset(data_root=out, data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
                      pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                                dict(type='PackSegInputs')])
    assert len(ds) == 12
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (3, 32, 32)
    assert sample['data_samples'].gt_sem_seg.data.max() < 16


def test_unknown_colour_is_named_or_ignored(release, tmp_path):
    member = 'images/P0001_instance_color_RGB.png'
    rgb = _read_member(osp.join(release, MASKS), member).copy()
    rgb[:3, :3] = (12, 34, 56)
    _rewrite_member(osp.join(release, MASKS), member, rgb)
    with pytest.raises(DatasetFormatError, match=r"iSAID label '.*images.zip:images/P0001_instance_color_RGB.png' "
                                                 r'has values \{795192: 9 px'):
        convert_isaid(release, str(tmp_path / 'a'), crop_size=32, overlap=8)
    convert_isaid(release, str(tmp_path / 'b'), crop_size=32, overlap=8, ignore_unknown=True)
    ann = np.asarray(Image.open(osp.join(tmp_path, 'b', 'ann_dir', 'train', 'P0001_0_32_0_32_instance_color_RGB.png')))
    assert (ann[:3, :3] == 255).all()


def test_missing_files_are_named(release, tmp_path):
    with pytest.raises(ValueError, match='overlap must be in'):
        convert_isaid(release, str(tmp_path / 'o'), crop_size=32, overlap=32)
    _rewrite_member(osp.join(release, MASKS), 'images/P0001_instance_color_RGB.png')
    with pytest.raises(FileNotFoundError, match=r"iSAID train: 1 image\(s\) without a label.*\['P0001'\].*Fix"):
        convert_isaid(release, str(tmp_path / 'a'))
    with pytest.raises(FileNotFoundError, match='iSAID train: no PNGs.*Fix'):
        convert_isaid(str(tmp_path / 'nowhere'), str(tmp_path / 'b'))
