"""Merging patch predictions into full-image DOTA Task1 results, and scoring them.

The reference for "correct" is the split itself: ground-truth boxes of the patches, fed back as
predictions, must merge into the full-image ground truth (mAP 1.0), at one scale and at several.
"""
import importlib.util
import os
import os.path as osp
import zipfile

import cv2
import numpy as np
import pytest
import torch
from mmrotate.structures.bbox import qbox2rbox

from mmrsfm.datasets.dota_split import DOTAFormatError, parse_dota_txt, patch_name, split_image
from mmrsfm.datasets.synthetic import make_dota_raw
from mmrsfm.evaluation import DOTAMergeMetric
from mmrsfm.evaluation.dota_task1 import (evaluate_task1, merge_patch_predictions, patch_boxes_to_image, read_task1,
                                          write_task1)
from mmrsfm.registry import METRICS

CLASSES = ('plane', 'ship', 'storage-tank')
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def val_dir(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('dota_raw'))
    make_dota_raw(root, num_train=0, num_val=3, num_test=0, size=320, seed=5)
    return osp.join(root, 'val')


def gt_patch_predictions(val_dir: str, rates) -> list:
    """The split's patch labels as (patch name, rboxes, scores, labels); truncated parts score lower."""
    preds = []
    for file in sorted(os.listdir(osp.join(val_dir, 'images'))):
        stem = osp.splitext(file)[0]
        labels = parse_dota_txt(osp.join(val_dir, 'labelTxt', stem + '.txt'), CLASSES)
        img = cv2.imread(osp.join(val_dir, 'images', file))
        for p in split_image(img, labels, patch_size=128, gap=64, rates=rates):
            rboxes = qbox2rbox(torch.from_numpy(p.labels.polys).float()).numpy().reshape(-1, 5)
            scores = np.where(p.labels.difficult == 2, 0.5, 0.9)
            ids = np.array([CLASSES.index(n) for n in p.labels.names], np.int64)
            preds.append((patch_name(stem, p.rate, p.x, p.y), rboxes, scores, ids))
    return preds


def test_patch_boxes_map_back_by_offset_then_rate():
    rbox = np.array([[10., 20, 8, 4, 0.3]])
    assert np.allclose(patch_boxes_to_image(rbox, 0.5, 100, 50), [[220, 140, 16, 8, 0.3]])
    quad = np.array([[0., 0, 4, 0, 4, 2, 0, 2]])
    assert np.allclose(patch_boxes_to_image(quad, 2.0, 10, 20), [[5, 10, 7, 10, 7, 11, 5, 11]])
    with pytest.raises(ValueError, match=r'\(N, 5\) rotated boxes or \(N, 8\)'):
        patch_boxes_to_image(np.zeros((1, 4)), 1.0, 0, 0)


def test_single_scale_merge_recovers_ground_truth_and_task1_files_parse_back(val_dir, tmp_path, capsys):
    merged = merge_patch_predictions(gt_patch_predictions(val_dir, (1.0, )), len(CLASSES))
    out = str(tmp_path / 'Task1')
    zip_path = write_task1(merged, CLASSES, out)
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == [f'Task1_{c}.txt' for c in CLASSES]
    with open(osp.join(out, 'Task1_ship.txt')) as f:
        first = f.readline().split()
    assert first[0] in merged and len(first) == 10 and float(first[1]) == 0.9  # image score x1 y1 ... y4
    back = read_task1(out, CLASSES)
    assert back.keys() == merged.keys()
    for image in merged:
        for a, b in zip(merged[image], back[image]):
            assert a.shape == b.shape and np.allclose(a, b, atol=0.006)  # written to 0.01 px

    # scored through the command line, as a user would score a submission folder
    spec = importlib.util.spec_from_file_location('eval_cli', osp.join(REPO, 'tools/analysis_tools/eval_dota_task1.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    cli.main([out, osp.join(val_dir, 'labelTxt'), '--classes', *CLASSES, '--nproc', '1'])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith('dota-task1 mAP=1.0000 ') and 'AP_ship=1.0000' in line


def test_metric_undoes_multiscale_split_exactly(val_dir, tmp_path):
    metric = METRICS.build(dict(type='mmrsfm.DOTAMergeMetric', outfile_prefix=str(tmp_path / 'Task1'),
                                ann_dir=osp.join(val_dir, 'labelTxt'), iou_thrs=[0.95], nproc=1))
    assert isinstance(metric, DOTAMergeMetric)
    metric.dataset_meta = dict(classes=CLASSES)
    preds = gt_patch_predictions(val_dir, (0.5, 1.0, 1.5))
    assert {name.split('__')[1] for name, *_ in preds} == {'0.5', '1', '1.5'}
    samples = [dict(img_id=name, pred_instances=dict(bboxes=torch.from_numpy(b), scores=torch.from_numpy(s),
                                                     labels=torch.from_numpy(lab)))
               for name, b, s, lab in preds]
    metric.process({}, samples)
    results = metric.evaluate(len(samples))
    # exact: every box at IoU >= 0.95 (11 x 1/11 sums to 1 + 2e-16, as in the devkit)
    assert results == {'dota_full/mAP': pytest.approx(1.0), 'dota_full/AP95': pytest.approx(1.0)}
    assert osp.isfile(tmp_path / 'Task1' / 'Task1.zip')


def test_mmrotate_merge_ignores_the_rate(val_dir, tmp_path):
    """mmrotate's DOTAMetric only shifts patch boxes by (x, y): wrong at any rate but 1."""
    from mmrotate.evaluation import DOTAMetric
    metric = DOTAMetric(merge_patches=True)
    metric.dataset_meta = dict(classes=CLASSES)
    preds = gt_patch_predictions(val_dir, (0.5, 1.5))
    metric.merge_results([dict(img_id=n, bboxes=b.astype(np.float32), scores=s.astype(np.float32), labels=lab)
                          for n, b, s, lab in preds], str(tmp_path / 'mmrotate'))
    mean_ap, _ = evaluate_task1(str(tmp_path / 'mmrotate'), osp.join(val_dir, 'labelTxt'), CLASSES, nproc=1)
    assert mean_ap < 0.2  # the same patches merge to mAP 1.0 above


def test_patches_of_mmrotates_splitter_are_detected():
    # mmrotate's img_split.py names a patch by its window size and does not resize it
    pred = ('P0001__1024__824___0', np.array([[10., 10, 4, 2, 0]]), np.array([0.9]), np.array([0]))
    with pytest.raises(ValueError, match='rescaled_patches=False'):
        merge_patch_predictions([pred], 1)
    merged = merge_patch_predictions([pred], 1, rescaled_patches=False)
    assert np.allclose(merged['P0001'][0][0, :2], [836, 11])  # first corner: only shifted


def test_overlapping_duplicates_are_suppressed_per_category():
    box = np.array([[50., 50, 20, 10, 0.2]])
    preds = [('A__1__0___0', box, np.array([0.9]), np.array([0])),
             ('A__1__16___0', box - (16, 0, 0, 0, 0), np.array([0.8]), np.array([0])),  # same object
             ('A__1__16___0', box - (16, 0, 0, 0, 0), np.array([0.7]), np.array([1]))]  # other category
    merged = merge_patch_predictions(preds, 2)
    assert [len(d) for d in merged['A']] == [1, 1] and merged['A'][0][0, 8] == pytest.approx(0.9)


def test_malformed_task1_line_is_named(tmp_path):
    (tmp_path / 'Task1_ship.txt').write_text('P0001 0.9 1 2 3 4 5 6 7 8\nP0001 0.9 1 2 3\n')
    with pytest.raises(DOTAFormatError, match=r'Task1_ship.txt:2: expected "image score x1'):
        read_task1(str(tmp_path), CLASSES)


def test_detections_of_images_outside_the_label_set_are_refused(val_dir, tmp_path):
    (tmp_path / 'Task1_ship.txt').write_text('P9999 0.9 1 2 3 2 3 4 1 4\n')
    with pytest.raises(ValueError, match=r"images without a label file .*\['P9999'\]"):
        evaluate_task1(str(tmp_path), osp.join(val_dir, 'labelTxt'), CLASSES)


def test_metric_needs_somewhere_to_write_or_labels():
    with pytest.raises(ValueError, match='outfile_prefix .* ann_dir'):
        DOTAMergeMetric()
