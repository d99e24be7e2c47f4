"""Exact polygon / rotated-box IoU (mmrsfm.evaluation.poly_iou) against shapely, and the mmcv 2.1
``box_iou_rotated`` bug it replaces: reproduced here, and checked gone from every path that used it
(merge NMS, Task1 scoring, the registered assigner IoU)."""
import numpy as np
import pytest
import torch

from mmrsfm.evaluation.dota_task1 import evaluate_task1, merge_patch_predictions
from mmrsfm.evaluation.poly_iou import (ExactRBboxOverlaps2D, poly_iou, poly_iou_aligned, poly_nms, rbox_iou,
                                        rbox_to_poly)

shapely = pytest.importorskip('shapely', reason='shapely (requirements/tests.txt) is the exact-geometry reference')
from shapely.geometry import Polygon  # noqa: E402

#: Two pairs of boxes ~0.001 px apart (float32, as mmcv sees them) that mmcv 2.1.0's CPU box_iou_rotated
#: scores 0.0 and 0.333 instead of 0.9999.
ZERO_PAIR = [[288.151031, 705.385437, 75.1515274, 22.5244541, -1.37019622],
             [288.151947, 705.38562, 75.1515274, 22.5244541, -1.37019622]]
THIRD_PAIR = [[122.906685, 94.6650543, 93.3852005, 5.14847231, 1.14912856],
              [122.907074, 94.6658173, 93.3852005, 5.14847231, 1.14912856]]


def shapely_iou(p: np.ndarray, q: np.ndarray) -> float:
    a, b = Polygon(p.reshape(4, 2)), Polygon(q.reshape(4, 2))
    inter = a.intersection(b).area
    return inter / (a.area + b.area - inter)


def random_rboxes(rng, n, scale=1000.):
    return np.c_[rng.uniform(0, scale, (n, 2)), rng.uniform(2, 100, (n, 2)), rng.uniform(-np.pi, np.pi, n)]


def simple_quads(rng, n, convex: bool) -> np.ndarray:
    """Valid (non-self-intersecting) quads, convex or not, in random order and orientation."""
    out = []
    while len(out) < n:
        c, r = rng.uniform(0, 500, 2), rng.uniform(5, 60)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 4))
        rad = r * (rng.uniform(0.7, 1.0, 4) if convex else np.array([1, 1, 1, rng.uniform(0.05, 0.3)]))
        pts = c + np.c_[np.cos(ang), np.sin(ang)] * rad[:, None]
        poly = Polygon(pts)
        if not poly.is_valid or (abs(poly.convex_hull.area - poly.area) < 1e-6 * poly.area) != convex:
            continue
        pts = np.roll(pts, rng.integers(4), 0)
        out.append((pts[::-1] if rng.random() < 0.5 else pts).reshape(8))
    return np.array(out)


@pytest.mark.parametrize('kind', ['rectangles', 'thin', 'convex', 'non-convex', 'near-coincident', 'mixed'])
def test_poly_iou_is_exact_geometry_for_simple_quads(kind):
    rng = np.random.default_rng(['rectangles', 'thin', 'convex', 'non-convex', 'near-coincident', 'mixed'].index(kind))
    n = 400
    if kind in ('rectangles', 'near-coincident'):
        p = rbox_to_poly(random_rboxes(rng, n)).numpy()
        q = p + rng.normal(0, 1e-3 if kind == 'near-coincident' else 4, p.shape)  # not all simple: filtered
    elif kind == 'thin':  # 1-3 px wide, 50-300 px long, crossing at small angles
        b = np.c_[rng.uniform(0, 50, (n, 2)), rng.uniform(50, 300, n), rng.uniform(1, 3, n), rng.uniform(-.2, .2, n)]
        p = rbox_to_poly(b).numpy()
        q = rbox_to_poly(b + np.c_[rng.normal(0, 1, (n, 2)), np.zeros((n, 2)), rng.normal(0, .02, n)]).numpy()
    else:  # convex / non-convex pairs, or one of each; q moved onto p's centre
        p = simple_quads(rng, n, kind != 'non-convex')
        q = simple_quads(rng, n, kind == 'convex')
        q = q + np.tile(p.reshape(n, 4, 2).mean(1) - q.reshape(n, 4, 2).mean(1), 4)
    valid = np.array([Polygon(a.reshape(4, 2)).is_valid and Polygon(b.reshape(4, 2)).is_valid for a, b in zip(p, q)])
    p, q = p[valid], q[valid]
    ref = np.array([shapely_iou(a, b) for a, b in zip(p, q)])
    ours = poly_iou_aligned(p, q).numpy()
    assert len(p) > 300 and ref.max() > 0.5
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(poly_iou_aligned(q, p).numpy(), ref, rtol=0, atol=1e-9)  # symmetric
    # the matrix form: the same values on the diagonal, shapely's off it
    m = poly_iou(p[:40], q[:40]).numpy()
    np.testing.assert_allclose(np.diag(m), ref[:40], atol=1e-9)
    off = [(i, j) for i in range(40) for j in range(40) if i != j][::37]
    np.testing.assert_allclose([m[i, j] for i, j in off], [shapely_iou(p[i], q[j]) for i, j in off], atol=1e-9)


def test_full_image_coordinates_and_iof():
    rng = np.random.default_rng(7)
    b = random_rboxes(rng, 200, scale=20000.)
    p = rbox_to_poly(b).numpy()
    q = rbox_to_poly(b + np.c_[rng.normal(0, 3, (200, 2)), np.zeros((200, 3))]).numpy()
    ref = np.array([shapely_iou(x, y) for x, y in zip(p, q)])
    np.testing.assert_allclose(poly_iou_aligned(p, q).numpy(), ref, atol=1e-9)
    iof = np.array([Polygon(x.reshape(4, 2)).intersection(Polygon(y.reshape(4, 2))).area / Polygon(x.reshape(4, 2)).area
                    for x, y in zip(p, q)])
    np.testing.assert_allclose(poly_iou_aligned(p, q, mode='iof').numpy(), iof, atol=1e-9)
    # float32 rotated boxes (the assigner's dtype) 0.01 px apart, computed around the first box's centre
    b1 = torch.tensor(b, dtype=torch.float32)
    b2 = b1 + torch.tensor(np.c_[rng.normal(0, 1e-2, (200, 2)), np.zeros((200, 3))], dtype=torch.float32)
    np.testing.assert_allclose(rbox_iou(b1, b2, aligned=True, dtype=torch.float32).numpy(),
                               rbox_iou(b1, b2, aligned=True).numpy(), atol=1e-5)


def test_self_intersecting_and_degenerate_quads_follow_the_devkit():
    """A bow-tie is scored as the devkit's polyiou scores it (winding-number product, not the geometric
    overlap; shapely calls it invalid): the checked-in devkit values are compared in
    test_dota_devkit_equivalence.py; this is the textbook case, whose devkit IoU is 0."""
    square = np.array([[0., 0, 2, 0, 2, 2, 0, 2]])
    bowtie = np.array([[0., 0, 2, 0, 0, 2, 2, 2]])  # lobes of equal area: signed area 0
    assert poly_iou_aligned(square, bowtie).item() == pytest.approx(0.0, abs=1e-12)
    point = np.zeros((1, 8))
    assert np.isnan(poly_iou_aligned(point, point).item())  # 0 / 0, as the devkit
    assert poly_iou_aligned(square, point).item() == 0.0
    with pytest.raises(ValueError, match='iou.*iof'):
        poly_iou_aligned(square, square, mode='giou')


def test_mmcv_box_iou_rotated_is_wrong_for_near_coincident_boxes():
    """The mmcv 2.1.0 bug (CPU): boxes 1e-5 to 1e-3 px apart score 0 or 1/3 instead of ~1."""
    from mmcv.ops import box_iou_rotated
    g = torch.Generator().manual_seed(0)
    n = 3000
    b = torch.cat([torch.rand(n, 2, generator=g) * 1000, 2 + torch.rand(n, 2, generator=g) * 100,
                   (torch.rand(n, 1, generator=g) - 0.5) * np.pi], 1)
    wrong = {}
    for offset in (1e-4, 1e-3):
        b2 = b.clone()
        b2[:, :2] += offset * (torch.rand(n, 2, generator=g) * 2 - 1)
        exact = rbox_iou(b, b2, aligned=True)  # the float32 boxes, in float64
        assert (exact > 0.999).all()
        wrong[offset] = int(((box_iou_rotated(b, b2, aligned=True).double() - exact).abs() > 0.1).sum())
    pair = torch.tensor(ZERO_PAIR)
    mmcv_zero = box_iou_rotated(pair[:1], pair[1:]).item()
    mmcv_third = box_iou_rotated(torch.tensor(THIRD_PAIR)[:1], torch.tensor(THIRD_PAIR)[1:]).item()
    if not any(wrong.values()) and mmcv_zero > 0.99 and mmcv_third > 0.99:
        pytest.skip('mmcv box_iou_rotated is right here: the bug is fixed in this build')
    assert mmcv_zero < 0.01 and abs(mmcv_third - 1 / 3) < 0.01
    assert wrong[1e-3] >= 1, wrong  # measured on mmcv 2.1.0: 8 of 3000 at 1e-3 px, 59-81 at 1e-4 px
    assert rbox_iou(pair[:1], pair[1:]).item() == pytest.approx(0.99992, abs=1e-5)


def test_merge_nms_suppresses_near_coincident_duplicates():
    """mmcv's nms_rotated keeps both boxes of ZERO_PAIR (IoU 0); the merge must keep one."""
    boxes, scores = np.array(ZERO_PAIR), np.array([0.9, 0.8])
    merged = merge_patch_predictions([('A__1__0___0', boxes, scores, np.zeros(2, np.int64))], 1)
    assert len(merged['A'][0]) == 1 and merged['A'][0][0, 8] == 0.9
    np.testing.assert_array_equal(poly_nms(rbox_to_poly(boxes), scores, 0.1), [0])
    # also for quadrilateral predictions, and for equal scores (the earlier box stays)
    np.testing.assert_array_equal(poly_nms(rbox_to_poly(boxes[::-1]), [0.5, 0.5], 0.1), [0])


def test_poly_nms_matches_a_brute_force_greedy_nms():
    rng = np.random.default_rng(3)
    b = np.c_[rng.uniform(0, 300, (300, 2)), rng.uniform(10, 60, (300, 2)), rng.uniform(-np.pi, np.pi, 300)]
    polys, scores = rbox_to_poly(b).numpy(), rng.random(300)
    iou = np.array([[shapely_iou(x, y) for y in polys] for x in polys])
    for thr in (0.1, 0.5):
        keep, alive = [], np.ones(300, bool)
        for i in np.argsort(-scores, kind='stable'):
            if alive[i]:
                keep.append(i)
                alive &= ~(iou[i] > thr)
        np.testing.assert_array_equal(poly_nms(polys, scores, thr), keep)


def test_scorer_counts_a_near_coincident_detection_as_a_match(tmp_path):
    """THIRD_PAIR: mmcv's IoU 0.33 would make this detection a false positive."""
    labels, dets = tmp_path / 'labelTxt', tmp_path / 'Task1'
    labels.mkdir()
    dets.mkdir()
    label, det = rbox_to_poly(np.array(THIRD_PAIR)).numpy()
    (labels / 'P0001.txt').write_text(' '.join(f'{v:.6f}' for v in label) + ' ship 0\n')
    (dets / 'Task1_ship.txt').write_text('P0001 0.9 ' + ' '.join(f'{v:.6f}' for v in det) + '\n')
    mean_ap, aps = evaluate_task1(str(dets), str(labels), ['ship'], iou_thr=0.5)
    assert aps == {'ship': pytest.approx(1.0)}


def test_registered_assigner_iou_matches_a_near_coincident_prior():
    """mmdet's MaxIoUAssigner with mmrotate's RBboxOverlaps2D (mmcv) makes a prior 0.001 px off its
    ground truth a negative; with mmrsfm.ExactRBboxOverlaps2D it is a positive."""
    from mmdet.models.task_modules.assigners import MaxIoUAssigner
    from mmengine.structures import InstanceData
    pair = torch.tensor(ZERO_PAIR)
    gt = InstanceData(bboxes=pair[:1], labels=torch.tensor([0]))
    results = {}
    for calc in ('mmrotate.RBboxOverlaps2D', 'mmrsfm.ExactRBboxOverlaps2D'):
        assigner = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.5, min_pos_iou=0.5, iou_calculator=dict(type=calc))
        results[calc] = assigner.assign(InstanceData(priors=pair[1:]), gt).gt_inds.tolist()
    assert results['mmrsfm.ExactRBboxOverlaps2D'] == [1]
    assert results['mmrotate.RBboxOverlaps2D'] in ([0], [1])  # [0] on mmcv 2.1.0 (the bug)
    # a drop-in: same shapes and values as mmrotate's away from the bug, scores column ignored
    rng = np.random.default_rng(0)
    b1 = torch.tensor(random_rboxes(rng, 50, 200.), dtype=torch.float32)
    b2 = torch.tensor(random_rboxes(rng, 30, 200.), dtype=torch.float32)
    from mmrotate.models.task_modules.assigners import RBboxOverlaps2D
    calc = ExactRBboxOverlaps2D()
    np.testing.assert_allclose(calc(b1, torch.cat([b2, torch.rand(30, 1)], 1)).numpy(),
                               RBboxOverlaps2D()(b1, b2).numpy(), atol=1e-4)
    assert calc(b1[:0], b2).shape == (0, 30) and calc(b1[:5], b1[:5], is_aligned=True).shape == (5, )


@pytest.mark.parametrize('pad', [0., 1.])
def test_hbb_pairs_finds_every_overlap_per_group(pad):
    from mmrsfm.evaluation.poly_iou import hbb_pairs
    rng = np.random.default_rng(int(pad))
    def boxes(n):
        xy = rng.uniform(0, 200, (n, 2))
        wh = np.where(rng.random((n, 1)) < 0.05, rng.uniform(50, 150, (n, 2)), rng.uniform(0, 12, (n, 2)))
        return np.c_[xy, xy + wh]
    a, b = boxes(300), boxes(200)
    ga, gb = rng.integers(0, 4, 300), rng.integers(1, 5, 200)
    i, j = hbb_pairs(a, b, ga, gb, pad)
    hit = ((np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]) + pad > 0)
           & (np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]) + pad > 0)
           & (ga[:, None] == gb[None, :]))
    ei, ej = np.nonzero(hit)
    np.testing.assert_array_equal(i, ei)
    np.testing.assert_array_equal(j, ej)
    assert len(ei) > 100


def test_check_rotated_iou_tool_runs(capsys):
    import importlib.util
    import os.path as osp
    import sys
    path = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'analysis_tools', 'check_rotated_iou.py')
    spec = importlib.util.spec_from_file_location('check_rotated_iou', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    argv, threads = sys.argv, torch.get_num_threads()
    sys.argv = ['check_rotated_iou.py', '--n', '300', '--assigner-sizes', '40x5']
    try:
        tool.main()
    finally:
        sys.argv = argv
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert 'op=box_iou_rotated device=cpu offset=0.0001 wrong=' in out and 'assigner_iou device=cpu priors=40' in out
