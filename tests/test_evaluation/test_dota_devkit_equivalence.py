"""Task1 scoring equals the official DOTA devkit (CAPTAIN-WHU/DOTA_devkit ``dota_evaluation_task1.py``).

The devkit cannot be vendored nor downloaded in CI, so its outputs on the deterministic cases of
``dota_devkit_cases.py`` are checked in (``tests/data/dota_devkit_golden.json``, produced by
``make_dota_devkit_golden.py`` with the devkit itself; the file names its commit and the sha256 of its
scorer). With ``DOTA_DEVKIT=<checkout>`` and ``swig`` installed, the last test also runs the devkit live.
"""
import json
import math
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest

from dota_devkit_cases import CLASSES, SETTINGS, case_digest, make_case, write_case
from mmrsfm.evaluation.dota_task1 import evaluate_task1
from mmrsfm.evaluation.poly_iou import poly_iou_aligned

HERE = osp.dirname(osp.abspath(__file__))
GOLDEN = osp.join(osp.dirname(HERE), 'data', 'dota_devkit_golden.json')


@pytest.fixture(scope='module')
def golden() -> dict:
    with open(GOLDEN) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def case(golden, tmp_path_factory):
    case = make_case(golden['cases']['seed'])
    assert case_digest(case) == golden['cases']['sha256'], \
        'dota_devkit_cases.py no longer generates the files the golden scores are of: regenerate the golden file'
    root = str(tmp_path_factory.mktemp('devkit_case'))
    return case, write_case(case, root)


def test_cases_cover_the_protocol(case):
    """The cases exercise what differs between scorers: non-rectangular, thin and self-intersecting
    labels, difficult flags, an all-difficult image, an image without labels, duplicates."""
    case, _ = case
    text = ''.join(case['labels'].values())
    flags = [line.split()[-1] for line in text.splitlines() if len(line.split()) == 10]
    assert {'0', '1', '2'} <= set(flags) and len(flags) > 150
    assert all(line.split()[-1] != '0' for line in case['labels']['P9003'].splitlines()[2:])
    assert len(case['labels']['P9007'].splitlines()) == 2  # header only
    p, q = case['iou_pairs']
    iou = poly_iou_aligned(p, q).numpy()
    assert (iou > 0.999).sum() > 50 and ((iou > 0.4) & (iou < 0.6)).sum() > 20


@pytest.mark.parametrize('iou_thr,use_07', SETTINGS)
def test_per_class_ap_equals_the_devkit(case, golden, iou_thr, use_07):
    _, (ann_dir, det_dir, _) = case
    mean_ap, aps = evaluate_task1(det_dir, ann_dir, CLASSES, iou_thr, '11points' if use_07 else 'area')
    expected = golden['ap'][f'{iou_thr:g}/{"11points" if use_07 else "area"}']
    for cls in CLASSES:
        if cls in aps:
            assert abs(aps[cls] - expected[cls]) <= 1e-3, (cls, aps[cls], expected[cls])
        else:  # no non-difficult label: the devkit's AP is a constant, whatever the detections
            assert expected[cls] == (0.0 if use_07 else None), (cls, expected[cls])
    assert set(aps) == set(CLASSES) - {'helicopter'}
    assert mean_ap == pytest.approx(np.mean([expected[c] for c in aps]), abs=1e-3)


def test_polygon_iou_equals_devkit_polyiou(case, golden):
    """Including self-intersecting and non-convex quads, where the devkit's IoU is not the geometric one."""
    p, q = case[0]['iou_pairs']
    ours = poly_iou_aligned(p, q).numpy()
    ref = np.array([np.nan if v is None else v for v in golden['iou_pairs']])
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours[~np.isnan(ref)], ref[~np.isnan(ref)], rtol=0, atol=1e-6)


def test_against_the_live_devkit(golden, tmp_path):
    """Optional: regenerate the golden file with a devkit checkout (``DOTA_DEVKIT``) and compare."""
    devkit = os.environ.get('DOTA_DEVKIT')
    if not devkit:
        pytest.skip('set DOTA_DEVKIT=<checkout of CAPTAIN-WHU/DOTA_devkit> to score with the devkit itself '
                    '(CI has no network: the checked-in golden values are compared above)')
    swig = shutil.which('swig') or osp.join(osp.dirname(sys.executable), 'swig')
    if not osp.exists(swig):
        pytest.skip('swig is not installed (pip install swig): the devkit polyiou extension cannot be built')
    work = str(tmp_path / 'DOTA_devkit')
    shutil.copytree(devkit, work, ignore=shutil.ignore_patterns('.git', 'example', '*.png'))
    out = str(tmp_path / 'golden.json')
    subprocess.run([sys.executable, osp.join(HERE, 'make_dota_devkit_golden.py'), '--devkit', work,
                    '--devkit-commit', golden['devkit']['commit'], '--out', out], check=True)
    with open(out) as f:
        live = json.load(f)
    for key, per_class in live['ap'].items():
        for cls, ap in per_class.items():
            ref = golden['ap'][key][cls]
            assert (ap is None and ref is None) or math.isclose(ap, ref, abs_tol=1e-9), (key, cls, ap, ref)
    np.testing.assert_allclose(np.array(live['iou_pairs'], float), np.array(golden['iou_pairs'], float), atol=1e-9)


@pytest.mark.parametrize('iou_thr,use_07', SETTINGS)
def test_dota_voc_metric_equals_the_devkit(case, golden, iou_thr, use_07):
    """mmrsfm.DOTAVOCMetric (image-by-image test loops, e.g. DIOR-R) on the same labels and detections,
    fed as data samples (difficult labels as ignored instances)."""
    import torch

    from mmrsfm.datasets.dota_split import parse_dota_txt
    from mmrsfm.evaluation.dota_task1 import read_task1
    from mmrsfm.registry import METRICS
    _, (ann_dir, det_dir, _) = case
    metric = METRICS.build(dict(type='mmrsfm.DOTAVOCMetric', iou_thrs=[iou_thr],
                                eval_mode='11points' if use_07 else 'area'))
    metric.dataset_meta = dict(classes=CLASSES)
    dets = read_task1(det_dir, CLASSES)
    samples = []
    for image in sorted(f[:-4] for f in os.listdir(ann_dir)):
        labels = parse_dota_txt(osp.join(ann_dir, image + '.txt'), CLASSES)
        ids = torch.tensor([CLASSES.index(n) for n in labels.names], dtype=torch.long)
        hard = torch.from_numpy(labels.difficult != 0)
        polys = torch.from_numpy(labels.polys)
        per_class = dets.get(image, [np.zeros((0, 9))] * len(CLASSES))
        samples.append(dict(
            img_id=image, gt_instances=dict(bboxes=polys[~hard], labels=ids[~hard]),
            ignored_instances=dict(bboxes=polys[hard], labels=ids[hard]),
            pred_instances=dict(bboxes=torch.from_numpy(np.concatenate([d[:, :8] for d in per_class])),
                                scores=torch.from_numpy(np.concatenate([d[:, 8] for d in per_class])),
                                labels=torch.cat([torch.full((len(d), ), c) for c, d in enumerate(per_class)]))))
    metric.process({}, samples)
    results = metric.evaluate(len(samples))
    expected = golden['ap'][f'{iou_thr:g}/{"11points" if use_07 else "area"}']
    mean_ap = np.mean([expected[c] for c in CLASSES if c != 'helicopter'])
    assert results['dota/mAP'] == pytest.approx(mean_ap, abs=1e-3)
    assert results[f'dota/AP{int(iou_thr * 100)}'] == results['dota/mAP']


def test_dota_voc_metric_takes_the_place_of_mmrotates():
    """Only ``type`` of mmrotate's evaluator dict needs changing; what it cannot do is refused."""
    from mmrsfm.registry import METRICS
    metric = METRICS.build(dict(type='mmrsfm.DOTAVOCMetric', metric='mAP', predict_box_type='rbox'))
    assert metric.iou_thrs == [0.5] and metric.prefix == 'dota'
    with pytest.raises(ValueError, match='DOTAMergeMetric'):
        METRICS.build(dict(type='mmrsfm.DOTAVOCMetric', merge_patches=True))
    with pytest.raises(ValueError, match="metric must be 'mAP'"):
        METRICS.build(dict(type='mmrsfm.DOTAVOCMetric', metric='recall'))
