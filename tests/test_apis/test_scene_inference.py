"""Whole-scene inference (``mmrsfm.apis.SceneInferencer``, ``tools/infer_scene.py``) on generated
georeferenced scenes: a UTM grid (EPSG:32633), non-square, not a multiple of the tile."""
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)  # tiny_models, for the configs' custom_imports

from conftest import REPO, run_tool  # noqa: E402

rasterio = pytest.importorskip('rasterio')
from rasterio.transform import Affine  # noqa: E402

CRS = 'EPSG:32633'
TRANSFORM = Affine(0.5, 0.0, 456000.0, 0.0, -0.5, 5_350_000.0)
HEIGHT, WIDTH = 150, 230  # non-square, not a multiple of the 64 px window or the 48 px block

SEG_CONFIG = """
default_scope = 'mmseg'
custom_imports = dict(imports=['tiny_models'], allow_failed_imports=False)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[100.0, 110.0, 120.0], std=[40.0, 45.0, 50.0],
                           bgr_to_rgb=False),
    backbone=dict(type='TinyLocalNet', in_channels=3, channels=8, num_layers=2),
    decode_head=dict(type='FCNHead', in_channels=8, channels=8, num_convs=1, concat_input=False, in_index=0,
                     dropout_ratio=0.0, num_classes=3, norm_cfg=None,
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False)),
    test_cfg=dict(mode='slide', crop_size=(64, 64), stride=(48, 48)))
test_dataloader = dict(dataset=dict(
    type='BaseSegDataset', metainfo=dict(classes=('water', 'field', 'forest'),
                                         palette=[[0, 0, 255], [255, 255, 0], [0, 128, 0]]),
    pipeline=[dict(type='mmrsfm.LoadMultiBandImage', bands=['B08', 'B04', 'B03']), dict(type='PackSegInputs')]))
"""

CD_CONFIG = """
default_scope = 'mmseg'
custom_imports = dict(imports=['tiny_models', 'mmrsfm'], allow_failed_imports=False)
model = dict(
    type='mmrsfm.SiameseEncoderDecoder',
    data_preprocessor=dict(type='mmrsfm.BiTemporalDataPreprocessor', mean=[100.0, 110.0, 120.0],
                           std=[40.0, 45.0, 50.0], bgr_to_rgb=False),
    backbone=dict(type='TinyLocalNet', in_channels=3, channels=8, num_layers=2),
    fusion=dict(type='mmrsfm.BiTemporalFusion', mode='diff'),
    decode_head=dict(type='FCNHead', in_channels=8, channels=8, num_convs=1, concat_input=False, in_index=0,
                     dropout_ratio=0.0, num_classes=2, norm_cfg=None,
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False)),
    test_cfg=dict(mode='slide', crop_size=(64, 64), stride=(48, 48)))
test_dataloader = dict(dataset=dict(type='mmrsfm.LEVIRCDDataset', pipeline=[dict(type='mmrsfm.LoadBiTemporalImages')]))
"""

DET_CONFIG = """
default_scope = 'mmrotate'
custom_imports = dict(imports=['tiny_models'], allow_failed_imports=False)
model = dict(type='mmdet.BrightBlobDetector', threshold=150.0, with_masks={masks},
             data_preprocessor=dict(type='mmdet.DetDataPreprocessor', mean=[0, 0, 0], std=[1, 1, 1],
                                    bgr_to_rgb=False))
test_dataloader = dict(dataset=dict(metainfo=dict(classes=('red-roof', 'green-roof', 'blue-roof')),
                                    pipeline=[dict(type='mmdet.LoadImageFromFile'),
                                              dict(type='mmdet.Resize', scale=(96, 96), keep_ratio=True)]))
"""


def write_config(tmp_path, name: str, text: str) -> str:
    path = str(tmp_path / f'{name}.py')
    with open(path, 'w') as f:
        f.write(text)
    return path


def write_scene(path: str, data: np.ndarray, names=None, nodata=None, transform=TRANSFORM, crs=CRS) -> str:
    """(C, H, W) uint8 -> GeoTIFF on the UTM grid."""
    profile = dict(driver='GTiff', height=data.shape[1], width=data.shape[2], count=data.shape[0], dtype='uint8',
                   crs=crs, transform=transform, nodata=nodata)
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data)
        for i, name in enumerate(names or (), start=1):
            dst.set_band_description(i, name)
    return path


def smooth_noise(rng, bands: int, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    import cv2
    noise = rng.uniform(0, 255, (bands, height, width)).astype(np.float32)
    return np.stack([cv2.GaussianBlur(b, (0, 0), 2.0) * 3 - 250 for b in noise]).clip(1, 255).astype(np.uint8)


def read(path: str):
    with rasterio.open(path) as src:
        return src.read(), src.crs, src.transform, src.profile, src.tags(ns='IMAGE_STRUCTURE')


@pytest.fixture(scope='module')
def seg_setup(tmp_path_factory):
    from mmrsfm.apis import SceneInferencer
    tmp = tmp_path_factory.mktemp('seg')
    torch.manual_seed(0)
    config = write_config(tmp, 'seg', SEG_CONFIG)
    inferencer = SceneInferencer(config, None, batch_size=3)
    spread_weights(inferencer.model)
    ckpt = str(tmp / 'seg.pth')
    torch.save({'state_dict': inferencer.model.state_dict(), 'meta': {}}, ckpt)
    inferencer = SceneInferencer(config, ckpt, batch_size=3, overlap=16)
    rng = np.random.default_rng(0)
    data = smooth_noise(rng, 4)
    scene = write_scene(str(tmp / 'scene.tif'), data, names=['B02', 'B03', 'B04', 'B08'])
    return inferencer, config, ckpt, scene, data


def spread_weights(model) -> None:
    """Random weights large enough that the class map varies across the scene (a seam would show)."""
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.6)


def whole_image_probs(inferencer, img: np.ndarray) -> np.ndarray:
    """One forward pass over the whole image (not the config's sliding window, which averages windows)."""
    test_cfg = inferencer.model.test_cfg
    mode, test_cfg.mode = test_cfg.mode, 'whole'
    try:
        return inferencer.infer_tiles(img[None].astype(np.float32))[0]
    finally:
        test_cfg.mode = mode


def test_segmentation_stitched_equals_whole_image_and_keeps_the_grid(seg_setup, tmp_path):
    inferencer, _, _, scene, data = seg_setup
    assert (inferencer.task, inferencer.tile, inferencer.overlap) == ('segmentation', 64, 16)
    result = inferencer(scene, out_dir=str(tmp_path), save_probs=True, progress=False)
    assert result.complete and result.blocks_total == 4 * 5  # ceil(150/48) x ceil(230/48) blocks
    classes, crs, transform, profile, structure = read(result.outputs['classes'])
    assert crs.to_string() == CRS and transform == TRANSFORM and classes.shape == (1, HEIGHT, WIDTH)
    assert profile['dtype'] == 'uint8' and profile['nodata'] == 255 and profile['tiled']
    assert profile['compress'] == 'deflate' and structure.get('LAYOUT') == 'COG'
    probs, crs_p, transform_p, _, _ = read(result.outputs['probs'])
    assert crs_p.to_string() == CRS and transform_p == TRANSFORM and probs.shape == (3, HEIGHT, WIDTH)
    # reference: the whole scene in one forward pass, bands selected by name as the pipeline does
    selected = data[[3, 2, 1]].astype(np.float32)  # B08, B04, B03
    ref = whole_image_probs(inferencer, selected)
    margin = 4  # receptive field radius 3 (two 3x3 convs + one 3x3 head conv)
    interior = (slice(margin, -margin), slice(margin, -margin))
    np.testing.assert_array_equal(classes[0][interior], ref.argmax(0)[interior])
    diff = np.abs(probs.astype(int) - np.rint(ref * 254).astype(int))
    assert diff[(slice(None), ) + interior].max() <= 1
    assert len(np.unique(classes)) == 3  # the map is not trivially constant
    with open(result.outputs['summary']) as f:
        summary = json.load(f)
    assert summary['crs'] == CRS and summary['classes'] == ['water', 'field', 'forest']


def test_segmentation_nodata_is_written_and_empty_tiles_are_skipped(seg_setup, tmp_path):
    inferencer, _, _, _, data = seg_setup
    data = data.copy()
    data[:, :100, :110] = 0  # nodata=0: the windows of the 2x2 top-left blocks see no valid pixel
    scene = write_scene(str(tmp_path / 'holes.tif'), data, names=['B02', 'B03', 'B04', 'B08'], nodata=0)
    result = inferencer(scene, out_dir=str(tmp_path / 'out'), progress=False)
    classes = read(result.outputs['classes'])[0][0]
    assert (classes[:100, :110] == 255).all() and (classes[100:, :] != 255).all() and (classes[:, 110:] != 255).all()
    assert result.tiles_skipped >= 1 and result.tiles_inferred + result.tiles_skipped == result.blocks_total


def test_interrupted_run_resumes_and_never_leaves_a_complete_looking_file(seg_setup, tmp_path, monkeypatch):
    inferencer, _, _, scene, _ = seg_setup
    full = inferencer(scene, out_dir=str(tmp_path / 'full'), progress=False)
    out = str(tmp_path / 'out')
    first = inferencer(scene, out_dir=out, progress=False, max_blocks=7)
    assert not first.complete and first.blocks_done == 7
    assert not osp.exists(osp.join(out, 'scene_classes.tif'))  # only the .partial file exists
    # a crash in the middle of the next run: the batch in flight is not committed
    calls = {'n': 0}
    original = inferencer.infer_tiles

    def crash_on_third(tiles):
        calls['n'] += 1
        if calls['n'] == 3:
            raise KeyboardInterrupt
        return original(tiles)

    monkeypatch.setattr(inferencer, 'infer_tiles', crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        inferencer(scene, out_dir=out, progress=False)
    assert not osp.exists(osp.join(out, 'scene_classes.tif'))
    monkeypatch.undo()
    last = inferencer(scene, out_dir=out, progress=False)
    assert last.complete and last.resumed_from == 7 + 2 * 3  # two committed batches of 3 after the first stop
    assert last.blocks_run == last.blocks_total - last.resumed_from
    np.testing.assert_array_equal(read(last.outputs['classes'])[0], read(full.outputs['classes'])[0])
    assert sorted(os.listdir(out)) == ['scene_classes.tif', 'scene_summary.json']  # no partial or state left
    # other arguments: not resumed
    again = inferencer(scene, out_dir=out, progress=False, max_blocks=2)
    other = inferencer(scene, out_dir=out, progress=False, nodata=7)
    assert again.resumed_from == 0 and other.resumed_from == 0 and other.complete


def test_change_detection_pair_stitched_and_grid_checks(tmp_path):
    from mmrsfm.apis import GridMismatchError, SceneInferencer
    torch.manual_seed(1)
    inferencer = SceneInferencer(write_config(tmp_path, 'cd', CD_CONFIG), None, batch_size=4)
    assert inferencer.task == 'change_detection' and inferencer.overlap == 16
    spread_weights(inferencer.model)
    rng = np.random.default_rng(1)
    a, b = smooth_noise(rng, 3), smooth_noise(rng, 3)
    path_a, path_b = write_scene(str(tmp_path / 'a.tif'), a), write_scene(str(tmp_path / 'b.tif'), b)
    probs = whole_image_probs(inferencer, np.concatenate([a, b]).astype(np.float32))
    with torch.no_grad():  # balance the two classes so the change map has both
        log_odds = np.log(np.clip(probs[0], 1e-30, 1) / np.clip(probs[1], 1e-30, 1))
        inferencer.model.decode_head.conv_seg.bias[1] += float(np.median(log_odds))
    result = inferencer(path_a, path_b, out_dir=str(tmp_path / 'out'), progress=False)
    change, crs, transform, _, _ = read(result.outputs['classes'])
    assert crs.to_string() == CRS and transform == TRANSFORM
    ref = whole_image_probs(inferencer, np.concatenate([a, b]).astype(np.float32)).argmax(0)
    np.testing.assert_array_equal(change[0][4:-4, 4:-4], ref[4:-4, 4:-4])
    assert 0.05 < change[0].mean() < 0.95
    # B on another grid (shifted by 3 m): an error naming both scenes, or --align
    shifted = write_scene(str(tmp_path / 'b_shifted.tif'), b, transform=TRANSFORM @ Affine.translation(6, 0))
    with pytest.raises(GridMismatchError, match=r"differ in transform: A = '.*/a\.tif'.*B = '.*/b_shifted\.tif'"):
        inferencer(path_a, shifted, out_dir=str(tmp_path / 'bad'), progress=False)
    other_crs = write_scene(str(tmp_path / 'b_32632.tif'), b, crs='EPSG:32632')
    with pytest.raises(GridMismatchError, match='CRS'):
        inferencer(path_a, other_crs, out_dir=str(tmp_path / 'bad'), progress=False)
    aligned = inferencer(path_a, shifted, out_dir=str(tmp_path / 'aligned'), align=True, progress=False)
    change_aligned = read(aligned.outputs['classes'])[0][0]
    assert (change_aligned[:, :6] == 255).all()  # B has no data there once warped onto A's grid
    assert (change_aligned[:, 7:] != 255).all()


ROOFS = [  # (cx, cy, w, h, angle deg, channel): several cross block (48 px) and window edges
    (30, 30, 26, 12, 0, 0), (47, 100, 24, 14, 30, 1), (96, 47, 20, 20, 45, 2), (143, 120, 28, 12, -20, 0),
    (191, 70, 22, 16, 60, 1), (200, 130, 18, 10, 0, 2), (120, 95, 16, 16, 10, 0)]


def roof_scene(path: str, height: int = HEIGHT, width: int = WIDTH):
    import shapely
    from mmrsfm.datasets.synthetic._common import rotated_rect_corners
    img = np.full((3, height, width), 60, np.uint8)
    ys, xs = np.mgrid[:height, :width]
    corners = []
    for cx, cy, w, h, angle, channel in ROOFS:
        poly = rotated_rect_corners(cx, cy, w, h, np.deg2rad(angle))
        # pixel (x, y) covers [x, x + 1) x [y, y + 1): it belongs to the roof when its centre does
        inside = shapely.contains_xy(shapely.Polygon(poly), xs + 0.5, ys + 0.5)
        img[channel][inside] = 230
        corners.append(poly)
    write_scene(path, img)
    return corners


def match_corners(found: np.ndarray, truth: list) -> float:
    """Largest distance (px) from a true corner to the nearest corner of the best-matching detection."""
    worst = 0.0
    for poly in truth:
        centre = poly.mean(0)
        det = min(found, key=lambda f: np.linalg.norm(f.mean(0) - centre))
        worst = max(worst, max(np.min(np.linalg.norm(det - p, axis=1)) for p in poly))
    return worst


def test_rotated_detection_vectors_round_trip_and_cross_tile_dedup(tmp_path):
    import pyogrio.raw
    import shapely
    from rasterio.warp import transform as warp

    from mmrsfm.apis import SceneInferencer
    truth = roof_scene(str(tmp_path / 'roofs.tif'))
    inferencer = SceneInferencer(write_config(tmp_path, 'det', DET_CONFIG.format(masks=False)), None,
                                 batch_size=4, tile=64, overlap=32)
    assert inferencer.task == 'rotated_detection' and inferencer.classes[0] == 'red-roof'
    result = inferencer(str(tmp_path / 'roofs.tif'), out_dir=str(tmp_path / 'out'), progress=False)
    assert result.num_objects == len(ROOFS)  # every object seen by up to 4 windows, once in the output
    inverse = ~TRANSFORM
    # DOTA Task1, scene pixels: every object once; the axis-aligned ones (which the blob detector
    # localises exactly) within 1 px of the truth, the rotated ones within its pixel-staircase error
    lines = [line.split() for name in os.listdir(result.outputs['dota_task1']) if name.endswith('.txt')
             for line in open(osp.join(result.outputs['dota_task1'], name))]
    assert len(lines) == len(ROOFS) and all(line[0] == 'roofs' for line in lines)
    pixel = [np.array(line[2:], float).reshape(4, 2) for line in lines]
    axis_aligned = [t for t, roof in zip(truth, ROOFS) if roof[4] == 0]
    assert match_corners(pixel, axis_aligned) < 1.0
    assert match_corners(pixel, truth) < 2.0
    # GeoPackage, in the scene CRS: back to pixels, the same corners
    meta, _, geometry, fields = pyogrio.raw.read(result.outputs['gpkg'])
    assert rasterio.crs.CRS.from_user_input(meta['crs']).to_epsg() == 32633
    polys = [np.array([inverse @ xy for xy in np.asarray(g.exterior.coords)[:4]]) for g in shapely.from_wkb(geometry)]
    assert match_corners(polys, pixel) < 0.01 and match_corners(polys, axis_aligned) < 1.0
    classes = dict(zip(meta['fields'], fields))['class']
    assert sorted(classes) == sorted(['red-roof', 'green-roof', 'blue-roof'][r[5]] for r in ROOFS)
    # GeoJSON, RFC 7946: WGS84 lon/lat, counter-clockwise exterior rings; back to UTM and pixels
    with open(result.outputs['geojson']) as f:
        collection = json.load(f)
    assert 'crs' not in collection and len(collection['features']) == len(ROOFS)
    back = []
    for feature in collection['features']:
        ring = np.array(feature['geometry']['coordinates'][0])
        assert 14 < ring[:, 0].min() < 16 and 48 < ring[:, 1].min() < 49  # lon/lat of UTM 33N, 48.3 N
        assert shapely.Polygon(ring).exterior.is_ccw
        xs, ys = warp('EPSG:4326', CRS, ring[:, 0].tolist(), ring[:, 1].tolist())
        back.append(np.array([inverse @ xy for xy in zip(xs, ys)])[:4])
    assert match_corners(back, pixel) < 0.01 and match_corners(back, axis_aligned) < 1.0
    # resumed: the objects of the first run's windows are kept, the rest added once
    out = str(tmp_path / 'resumed')
    assert not inferencer(str(tmp_path / 'roofs.tif'), out_dir=out, progress=False, max_blocks=13).complete
    assert not osp.exists(osp.join(out, 'roofs_detections.gpkg'))
    resumed = inferencer(str(tmp_path / 'roofs.tif'), out_dir=out, progress=False)
    assert resumed.complete and resumed.resumed_from == 13 and resumed.num_objects == len(ROOFS)


def test_instance_polygons_keep_holes_and_are_deduplicated(tmp_path):
    import cv2
    import pyogrio.raw
    import shapely

    from mmrsfm.apis import SceneInferencer
    img = np.full((HEIGHT, WIDTH, 3), 60, np.uint8)
    cv2.rectangle(img, (40, 30), (69, 59), (230, 60, 60), -1)  # a 30x30 courtyard building across a block edge
    cv2.rectangle(img, (50, 40), (59, 49), (60, 60, 60), -1)  # its 10x10 courtyard: a hole
    cv2.rectangle(img, (150, 100), (169, 111), (60, 230, 60), -1)
    write_scene(str(tmp_path / 'buildings.tif'), img.transpose(2, 0, 1))
    inferencer = SceneInferencer(write_config(tmp_path, 'ins', DET_CONFIG.format(masks=True)), None,
                                 batch_size=4, tile=64, overlap=32)
    assert inferencer.task == 'instance_segmentation'
    result = inferencer(str(tmp_path / 'buildings.tif'), out_dir=str(tmp_path / 'out'), progress=False)
    assert result.num_objects == 2
    _, _, geometry, fields = pyogrio.raw.read(result.outputs['gpkg'])
    polys = sorted(shapely.from_wkb(geometry), key=lambda g: -g.area)
    inverse = ~TRANSFORM
    courtyard = shapely.transform(polys[0], lambda xy: np.array([inverse @ p for p in xy]))
    assert len(courtyard.interiors) == 1 and courtyard.bounds == (40, 30, 70, 60)
    assert abs(courtyard.area - (900 - 100)) < 1e-6  # pixel-exact outline, hole kept


def test_pixel_only_png_and_cli(seg_setup, tmp_path):
    import cv2
    _, config, ckpt, _, data = seg_setup
    png = str(tmp_path / 'photo.png')
    cv2.imwrite(png, data[:3].transpose(1, 2, 0))
    out = run_tool(['tools/infer_scene.py', config, ckpt, png, '--out', str(tmp_path / 'out'),
                    '--band-names', 'B08', 'B04', 'B03', '--batch-size', '2'],
                   env={'PYTHONPATH': HERE + os.pathsep + REPO, 'OMP_NUM_THREADS': '1'}).stdout
    assert 'no georeferencing: outputs are in pixel coordinates' in out
    assert 'tile/s' in out or 'tile]' in out  # the progress bar
    classes_path = str(tmp_path / 'out' / 'photo_classes.tif')
    assert f'classes: {classes_path}' in out
    classes, crs, transform, _, _ = read(classes_path)
    assert crs is None and classes.shape == (1, HEIGHT, WIDTH)


def test_real_rotated_detector_runs_on_a_scene(tmp_path):
    """The demo's Rotated FCOS (mmrotate, untrained): its RotatedBoxes reach the vector outputs."""
    import pyogrio.raw

    from conftest import DEMO_CONFIG
    from mmrsfm.apis import SceneInferencer
    roof_scene(str(tmp_path / 'roofs.tif'))
    torch.manual_seed(0)
    inferencer = SceneInferencer(DEMO_CONFIG, None, batch_size=4, cfg_options={'model.test_cfg.max_per_img': 5})
    assert (inferencer.task, inferencer.tile, inferencer.overlap) == ('rotated_detection', 128, 32)
    assert inferencer.classes == ['plane', 'ship', 'storage-tank'] and inferencer.reverse_rgb  # BGR-trained
    result = inferencer(str(tmp_path / 'roofs.tif'), out_dir=str(tmp_path / 'out'), progress=False)
    assert result.complete and result.num_objects <= 5 * result.tiles_inferred
    meta, _, geometry, _ = pyogrio.raw.read(result.outputs['gpkg'])
    assert len(geometry) == result.num_objects and meta['geometry_type'] == 'Polygon'
