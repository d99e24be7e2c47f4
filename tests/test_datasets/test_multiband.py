"""Multispectral pipeline: band-named GeoTIFF loading with nodata, geometric transforms on 13 bands,
band padding, the multispectral data preprocessors and the SegMunich dataset."""
import random

import numpy as np
import pytest
import rasterio
import torch
from mmengine.registry import init_default_scope

from mmrsfm.datasets.sentinel2 import S2_BANDS
from mmrsfm.datasets.synthetic import write_geotiff
from mmrsfm.registry import DATASETS, MODELS, TRANSFORMS

SPECTRALGPT_BANDS = [b for b in S2_BANDS if b != 'B10']


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')  # bare mmseg/mmcv transform names below


def _scene(h=20, w=24, bands=13, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(100, 5000, (h, w, bands)).astype(np.float32)


@pytest.fixture
def shuffled_tif(tmp_path):
    """13 bands stored in a shuffled order with descriptions like 'B1'/'b8a', nodata 0 on 3 pixels."""
    img = _scene()
    img[0, :3] = 0  # nodata in every band
    img[5, 5, 2] = 0  # nodata in one band only (B03)
    order = np.random.default_rng(1).permutation(13)
    names = [S2_BANDS[i].replace('B0', 'B').lower() if i % 2 else S2_BANDS[i] for i in order]  # 'b1', 'B02', ...
    path = str(tmp_path / 'scene.tif')
    write_geotiff(path, img[..., order], names, nodata=0)
    return path, img


def load(path, **kwargs) -> dict:
    return TRANSFORMS.build(dict(type='mmrsfm.LoadMultiBandImage', **kwargs))(dict(img_path=path))


def test_bands_are_selected_and_ordered_by_name_with_b10_dropped(shuffled_tif):
    path, img = shuffled_tif
    out = load(path, bands=SPECTRALGPT_BANDS)
    keep = [S2_BANDS.index(b) for b in SPECTRALGPT_BANDS]
    assert out['img'].dtype == np.float32 and out['img'].shape == (20, 24, 12)
    assert out['band_names'] == SPECTRALGPT_BANDS
    valid = np.ones((20, 24), bool)
    valid[0, :3] = False
    np.testing.assert_array_equal(out['img'][valid], img[..., keep][valid])
    assert out['crs'] == 'EPSG:32632' and out['geo_transform'][0] == 10.0
    # loose names: 'B1' == 'B01', 'b8a' == 'B8A'; the order asked for is the order returned
    assert load(path, bands=['b8a', 'B1'])['band_names'] == ['B8A', 'B01']
    # drop_bands keeps the file's own order minus B10
    dropped = load(path, drop_bands=['B10'])
    assert len(dropped['band_names']) == 12 and 'B10' not in dropped['band_names']
    with rasterio.open(path) as src:
        file_order = [d.upper().replace('B', 'B0') if len(d) == 2 else d.upper() for d in src.descriptions]
    assert dropped['band_names'] == [n for n in file_order if n != 'B10']


def test_nodata_is_filled_and_masked(shuffled_tif):
    path, img = shuffled_tif
    out = load(path, bands=S2_BANDS, with_valid_mask=True)
    assert (out['img'][0, :3] == 0).all() and out['img'][5, 5, 2] == 0  # default fill 0
    expected_valid = np.ones((20, 24), bool)
    expected_valid[0, :3] = expected_valid[5, 5] = False
    np.testing.assert_array_equal(out['valid_mask'], expected_valid)
    mean = load(path, bands=S2_BANDS, fill_value='mean')['img']
    band3 = img[..., 2][img[..., 2] != 0]
    np.testing.assert_allclose(mean[5, 5, 2], band3.mean(), rtol=1e-5)  # B03's valid-pixel mean
    np.testing.assert_allclose(mean[0, 0], [img[..., c][img[..., c] != 0].mean() for c in range(13)], rtol=1e-5)
    # an explicit nodata value overrides the file's: 0 becomes data, the pixels' own values mark nodata
    override = load(path, bands=['B01'], nodata=float(img[3, 3, 0]), with_valid_mask=True)
    assert not override['valid_mask'][3, 3] and override['valid_mask'][0, 0]


def test_undescribed_files_use_band_names_and_errors_name_the_fix(tmp_path):
    img = _scene(bands=4)
    path = str(tmp_path / 'plain.tif')
    profile = dict(driver='GTiff', height=20, width=24, count=4, dtype='float32')
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(img.transpose(2, 0, 1))
    assert load(path)['img'].shape == (20, 24, 4)  # no selection: all bands, file order
    out = load(path, band_names=['B02', 'B03', 'B04', 'B08'], bands=['B08', 'B04'])
    np.testing.assert_array_equal(out['img'], img[..., [3, 2]])
    with pytest.raises(ValueError, match='band_names'):
        load(path, bands=['B02'])
    with pytest.raises(ValueError, match=r"no band\(s\) \['B05'\]"):
        load(path, band_names=['B02', 'B03', 'B04', 'B08'], bands=['B05'])
    with pytest.raises(ValueError, match='4 bands but band_names gives 3'):
        load(path, band_names=['B02', 'B03', 'B04'])
    with pytest.raises(FileNotFoundError, match='missing.tif'):
        load(str(tmp_path / 'missing.tif'))


def test_modality_dict_paths_of_image_folders(shuffled_tif):
    path, _ = shuffled_tif
    t = TRANSFORMS.build(dict(type='mmrsfm.LoadMultiBandImage', drop_bands=['B10']))
    assert t(dict(img_path={'s2': path}))['img'].shape[-1] == 12


def _per_band(transform: dict, img: np.ndarray, seed: int) -> np.ndarray:
    """The transform applied to each band alone (same random draws): the N-band reference."""
    bands = []
    for c in range(img.shape[2]):
        np.random.seed(seed)
        random.seed(seed)
        out = TRANSFORMS.build(transform)(dict(img=img[..., c:c + 1].copy(), img_shape=img.shape[:2],
                                               seg_fields=[]))['img']
        bands.append(out.reshape(out.shape[:2]))
    return np.stack(bands, axis=-1)


@pytest.mark.parametrize('transform, wrap', [
    (dict(type='RandomFlip', prob=1.0, direction='vertical'), False),
    (dict(type='RandomCrop', crop_size=(11, 13)), False),
    (dict(type='RandomResize', scale=(30, 40), ratio_range=(0.8, 1.2), keep_ratio=True), False),
    (dict(type='mmrsfm.RandomRotate90', prob=1.0), False),
    (dict(type='RandomRotate', prob=1.0, degree=30, pad_val=7), True),  # cv2 fills only the first band with pad_val
    (dict(type='Resize', scale=(9, 7), interpolation='area'), True),  # cv2 INTER_AREA: <= 4 channels
], ids=['flip', 'crop', 'resize', 'rot90', 'rotate', 'resize-area'])
def test_geometric_transforms_on_13_bands_match_per_band(transform, wrap):
    img = _scene(seed=3)
    cfg = dict(type='mmrsfm.BandChunks', transforms=[transform]) if wrap else transform
    np.random.seed(5)
    random.seed(5)
    label = (img[..., 0] > 2500).astype(np.uint8)
    out = TRANSFORMS.build(cfg)(dict(img=img, img_shape=img.shape[:2], gt_seg_map=label, seg_fields=['gt_seg_map']))
    assert out['img'].shape[2] == 13 and out['img'].shape[:2] == out['gt_seg_map'].shape
    np.testing.assert_allclose(out['img'], _per_band(transform, img, 5), rtol=1e-5, atol=1e-3)


def test_unwrapped_opencv_transforms_fail_or_corrupt_many_bands():
    """Why BandChunks exists (OpenCV 4/5): these are the cases the test above wraps."""
    img = _scene(seed=3)
    rotate = dict(type='RandomRotate', prob=1.0, degree=30, pad_val=7)
    np.random.seed(5)
    out = TRANSFORMS.build(rotate)(dict(img=img, img_shape=img.shape[:2], seg_fields=[]))['img']
    assert not np.allclose(out, _per_band(rotate, img, 5), atol=1e-3)  # bands 2+ padded with 0, not 7
    with pytest.raises(Exception):
        TRANSFORMS.build(dict(type='Resize', scale=(9, 7), interpolation='area'))(dict(img=img))


def test_band_chunks_resize_hyperspectral_cubes():
    img = np.random.default_rng(0).random((8, 10, 600)).astype(np.float32)  # beyond OpenCV's channel limit (128 in 5.x)
    resize = dict(type='Resize', scale=(5, 4))
    with pytest.raises(Exception):
        TRANSFORMS.build(resize)(dict(img=img))
    out = TRANSFORMS.build(dict(type='mmrsfm.BandChunks', transforms=[resize], bands_per_chunk=128))(dict(img=img))
    assert out['img'].shape == (4, 5, 600) and out['img_shape'] == (4, 5)
    np.testing.assert_allclose(out['img'][..., 599], _per_band(resize, img[..., 599:], 0)[..., 0], rtol=1e-6)


def test_random_resized_crop_on_13_bands():
    from mmrsfm.datasets.transforms import RandomResizedCrop
    t = RandomResizedCrop(16, scale=(0.2, 1.0))
    np.random.seed(0)
    for _ in range(50):  # crop boxes: inside the image, area share and aspect ratio in range
        top, left, h, w = t.crop_box(60, 90)
        assert 0 <= top and top + h <= 60 and 0 <= left and left + w <= 90
        assert 0.2 - 0.03 <= h * w / (60 * 90) <= 1.0 and 3 / 4 - 0.05 <= w / h <= 4 / 3 + 0.05
    img = _scene(40, 40, seed=2)
    whole = RandomResizedCrop(16, scale=(1, 1), ratio=(1, 1), interpolation='bilinear')(dict(img=img))['img']
    np.testing.assert_allclose(whole, _per_band(dict(type='Resize', scale=(16, 16), keep_ratio=False), img, 0),
                               rtol=1e-5)
    label = np.kron(np.arange(16).reshape(4, 4), np.ones((10, 10))).astype(np.uint8)  # 4 x 4 blocks
    img[..., 5] = label * 100.0
    np.random.seed(1)
    out = RandomResizedCrop((12, 16), scale=(0.2, 0.5), interpolation='nearest')(
        dict(img=img, gt_seg_map=label, seg_fields=['gt_seg_map']))
    assert out['img'].shape == (12, 16, 13) and out['img_shape'] == (12, 16)
    np.testing.assert_array_equal(out['img'][..., 5], out['gt_seg_map'] * 100.0)  # image and label aligned


def test_pad_bands_appends_the_band_mean_and_labels_can_ignore_nodata():
    img = _scene(bands=10)
    out = TRANSFORMS.build(dict(type='mmrsfm.PadBands', num_bands=12))(dict(img=img, band_names=list('abcdefghij')))
    assert out['img'].shape[-1] == 12 and out['band_names'][-2:] == ['pad_mean'] * 2
    np.testing.assert_allclose(out['img'][..., 10], img.mean(-1), rtol=1e-6)
    np.testing.assert_array_equal(out['img'][..., 10], out['img'][..., 11])
    with pytest.raises(ValueError, match='got 13 bands'):
        TRANSFORMS.build(dict(type='mmrsfm.PadBands', num_bands=12))(dict(img=_scene()))
    valid = np.ones((4, 4), bool)
    valid[0, 1] = False
    res = TRANSFORMS.build(dict(type='mmrsfm.IgnoreNoDataLabels'))(
        dict(gt_seg_map=np.full((4, 4), 3, np.uint8), valid_mask=valid))
    assert res['gt_seg_map'][0, 1] == 255 and (res['gt_seg_map'] == 3).sum() == 15 and 'valid_mask' not in res


def test_bitemporal_multiband_pairs_by_name(tmp_path, shuffled_tif):
    path_a, img = shuffled_tif
    path_b = str(tmp_path / 'b.tif')
    img_b = img + 1
    img_b[7, 7] = 0
    write_geotiff(path_b, img_b, S2_BANDS, nodata=0)
    t = TRANSFORMS.build(dict(type='mmrsfm.LoadBiTemporalMultiBandImages', bands=SPECTRALGPT_BANDS,
                              with_valid_mask=True))
    out = t(dict(img_path=(path_a, path_b)))
    keep = [S2_BANDS.index(b) for b in SPECTRALGPT_BANDS]
    assert out['img'].shape == (20, 24, 24) and out['bands_per_date'] == 12
    np.testing.assert_array_equal(out['img'][10, 10, 12:], img_b[10, 10, keep])
    assert not out['valid_mask'][7, 7] and not out['valid_mask'][0, 0] and out['valid_mask'][10, 10]


def _error(loader, img_path) -> Exception:
    with pytest.raises(Exception) as err:
        loader(dict(img_path=img_path))
    return err.value


def test_single_and_bitemporal_loaders_report_a_bad_file_alike(tmp_path, shuffled_tif):
    """One reader (mmrsfm.datasets.raster): the same file gives the same error, whichever loader reads it."""
    from mmrsfm.datasets.file_checks import DatasetFormatError
    from mmrsfm.datasets.transforms import LoadBiTemporalImages
    corrupt, missing = str(tmp_path / 'corrupt.tif'), str(tmp_path / 'missing.tif')
    with open(corrupt, 'wb') as f:
        f.write(b'II*\x00garbage')
    single = TRANSFORMS.build(dict(type='mmrsfm.LoadMultiBandImage'))
    pair = TRANSFORMS.build(dict(type='mmrsfm.LoadBiTemporalMultiBandImages'))
    for path, kind, text in ((corrupt, DatasetFormatError, f"'{corrupt}' is not a readable image (GDAL: "),
                             (missing, FileNotFoundError, f"image '{missing}' does not exist")):
        errors = [_error(single, path), _error(pair, (path, path)), _error(LoadBiTemporalImages(), (path, path)),
                  _error(LoadBiTemporalImages(), ([path], [path]))]  # one date as a list of band files
        assert all(type(e) is kind for e in errors), errors
        assert len({str(e) for e in errors}) == 1 and str(errors[0]).startswith(text)
    # band selection by name: the same message, naming the bands the file has
    path, _ = shuffled_tif
    wanted = dict(bands=['B01', 'B13'])
    errors = [_error(TRANSFORMS.build(dict(type='mmrsfm.LoadMultiBandImage', **wanted)), path),
              _error(TRANSFORMS.build(dict(type='mmrsfm.LoadBiTemporalMultiBandImages', **wanted)), (path, path))]
    assert len({str(e) for e in errors}) == 1 and "no band(s) ['B13']; its bands are [" in str(errors[0])


# ---------------------------------------------------------------------------------------------------------------
# Data preprocessors


def _samples(labels):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    out = []
    for label in labels:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=label[None])
        out.append(s)
    return out


def test_minmax_preprocessor_pads_images_and_labels():
    torch.manual_seed(0)
    imgs = [torch.rand(12, 30, 27) * 4000 + 100, torch.rand(12, 30, 27) * 100]
    labels = [torch.randint(0, 13, (30, 27)) for _ in imgs]
    pre = MODELS.build(dict(type='mmrsfm.MultiSpectralDataPreprocessor', norm='minmax', num_bands=12,
                            size_divisor=8))
    out = pre(dict(inputs=imgs, data_samples=_samples(labels)), training=True)
    x = out['inputs']
    assert x.shape == (2, 12, 32, 32)
    lo = imgs[0].amin((1, 2), keepdim=True)
    hi = imgs[0].amax((1, 2), keepdim=True)
    torch.testing.assert_close(x[0, :, :30, :27], (imgs[0] - lo) / (hi - lo))
    assert (x[:, :, 30:] == 0).all()  # image padding after normalisation
    gt = out['data_samples'][1].gt_sem_seg.data
    assert gt.shape == (1, 32, 32) and (gt[:, 30:] == 255).all() and torch.equal(gt[0, :30, :27], labels[1])
    with pytest.raises(ValueError, match='batch has \\[10\\] bands'):
        pre(dict(inputs=[torch.rand(10, 8, 8)], data_samples=_samples([torch.zeros(8, 8).long()])), True)


def test_mean_std_matches_mmseg_for_n_bands_and_plain_batches_work():
    from mmseg.models.data_preprocessor import SegDataPreProcessor
    mean, std = list(range(100, 1400, 100)), list(range(10, 140, 10))  # 13 bands
    imgs = [torch.rand(13, 16, 16) * 1000 for _ in range(2)]
    ours = MODELS.build(dict(type='mmrsfm.MultiSpectralDataPreprocessor', mean=mean, std=std, size=(16, 16)))
    ref = SegDataPreProcessor(mean=mean, std=std, size=(16, 16))
    labels = [torch.zeros(16, 16).long()] * 2
    a = ours(dict(inputs=imgs, data_samples=_samples(labels)), True)['inputs']
    b = ref(dict(inputs=imgs, data_samples=_samples(labels)), True)['inputs']
    torch.testing.assert_close(a, b)
    # pretraining: images only, as a list or one tensor, padded to size_divisor
    pre = MODELS.build(dict(type='mmrsfm.MultiSpectralDataPreprocessor', norm='minmax', size_divisor=8))
    out = pre(dict(inputs=[torch.rand(12, 13, 13)] * 2), training=True)
    assert out['inputs'].shape == (2, 12, 16, 16) and out['data_samples'] is None
    assert pre(dict(inputs=torch.rand(2, 12, 16, 16)), training=False)['inputs'].shape == (2, 12, 16, 16)


def test_bitemporal_minmax_is_per_date_per_band():
    date_a, date_b = torch.rand(12, 16, 16) * 3000, torch.rand(12, 16, 16) * 10 + 5
    pre = MODELS.build(dict(type='mmrsfm.MultiSpectralBiTemporalDataPreprocessor', norm='minmax', size=(16, 16)))
    out = pre(dict(inputs=[torch.cat([date_a, date_b])], data_samples=_samples([torch.zeros(16, 16).long()])),
              True)['inputs'][0]
    for got, date in ((out[:12], date_a), (out[12:], date_b)):
        lo, hi = date.amin((1, 2), keepdim=True), date.amax((1, 2), keepdim=True)
        torch.testing.assert_close(got, (date - lo) / (hi - lo))


# ---------------------------------------------------------------------------------------------------------------
# SegMunich


def test_segmunich_layout_label_values_and_missing_files(tmp_path):
    from mmrsfm.datasets import SEGMUNICH_CLASSES
    from mmrsfm.datasets.segmunich import SEGMUNICH_LABEL_VALUES
    from mmrsfm.datasets.synthetic import make_segmunich
    root = tmp_path / 'SegMunich'
    make_segmunich(str(root), num_train=3, num_val=2, size=32, seed=0)
    pipeline = [dict(type='mmrsfm.LoadMultiBandImage', with_valid_mask=True),
                dict(type='LoadAnnotations'), dict(type='mmrsfm.IgnoreNoDataLabels')]
    ds = DATASETS.build(dict(type='mmrsfm.SegMunichDataset', data_root=str(root), split='train', pipeline=pipeline))
    assert len(ds) == 3 and ds.metainfo['classes'] == SEGMUNICH_CLASSES
    sample = ds[0]
    assert sample['band_names'] == ['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B8A', 'B11', 'B12']
    with rasterio.open(sample['seg_map_path']) as src:
        stored = src.read(1)
    label = sample['gt_seg_map']
    for cls, value in enumerate(SEGMUNICH_LABEL_VALUES):  # stored value -> training id, nodata -> 255
        hit = (stored == value) & (label != 255)
        assert (label[hit] == cls).all()
    assert (label == 255).sum() == 4 and label.max() == 255 and set(np.unique(label)) <= set(range(13)) | {255}
    (root / 'train' / 'label' / '1.tif').unlink()
    with pytest.raises(FileNotFoundError, match='1.tif'):
        DATASETS.build(dict(type='mmrsfm.SegMunichDataset', data_root=str(root), split='train'))
