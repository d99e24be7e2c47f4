"""Change detection end to end: tools/train.py and tools/test.py on the shipped configs, shrunk for CPU."""
import glob
import os
import os.path as osp

import cv2
import pytest

from conftest import SINGLE_THREAD, run_tool, write_child_config
from mmrsfm.utils.preflight import load_config
from mmrsfm.utils.tool_setup import parse_test_metrics, save_untrained_checkpoint

pytestmark = pytest.mark.e2e

LEVIR_CFG = 'configs/change_det/siamese_upernet/siamese-upernet_r18_4xb8-40k_levir-cd-256.py'
OSCD_CFG = 'configs/change_det/siamese_upernet/siamese-upernet_r18_4xb8-20k_oscd-128.py'

# The body of a test-only child of a shipped config: ResNet-18 at 1/4 width from scratch, a small
# UPerHead, single-process loaders; pipelines, fusion, slide inference and metric are the shipped ones.
CHILD = """
data_root = {root!r}
model = dict(
    data_preprocessor=dict(size={crop}),
    backbone=dict(stem_channels=16, base_channels=16, init_cfg=None),
    decode_head=dict(in_channels=[16, 32, 64, 128], channels=32, pool_scales=(1, 2, 4)),
    auxiliary_head=dict(in_channels=64, channels=16),
    test_cfg=dict(crop_size=(32, 32), stride=(24, 24)))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
optim_wrapper = dict(optimizer=dict(lr=5e-3))
train_cfg = dict(max_iters={iters}, val_interval={iters})
default_hooks = dict(checkpoint=dict(interval={iters}, save_best=None), logger=dict(interval=10))
randomness = dict(seed=0)
"""


def child(tmp_path, base: str, root: str, iters: int, crop=(64, 64)) -> str:
    body = CHILD.format(root=root + '/', iters=iters, crop=crop)
    return write_child_config(str(tmp_path / f'child_{osp.basename(base)}'), base, body)


def evaluate(cfg: str, ckpt: str, work: str, *extra: str) -> dict:
    return parse_test_metrics(run_tool(['tools/test.py', cfg, ckpt, '--work-dir', work, *extra],
                                       env=SINGLE_THREAD).stdout)


def test_levircd_training_raises_change_f1(tmp_path):
    from mmrsfm.datasets.synthetic import make_levircd
    root = str(tmp_path / 'levir-cd')
    make_levircd(root, num_train=16, num_val=4, size=64, seed=0)
    cfg = child(tmp_path, LEVIR_CFG, root, iters=200)
    work = str(tmp_path / 'work')
    untrained = str(tmp_path / 'init.pth')
    save_untrained_checkpoint(load_config(cfg), untrained)  # the child config's initial weights
    before = evaluate(cfg, untrained, str(tmp_path / 't0'))
    out = run_tool(['tools/train.py', cfg, '--work-dir', work], env=SINGLE_THREAD).stdout
    assert 'Iter(train) [200/200]' in out and 'cd/F1' in out  # validation ran on the val split
    after = evaluate(cfg, osp.join(work, 'iter_200.pth'), str(tmp_path / 't1'))
    print(f"LEVIR-CD synthetic test split: change F1 untrained {before['cd/F1']:.3f} -> trained {after['cd/F1']:.3f}")
    assert set(after) >= {'cd/precision', 'cd/recall', 'cd/F1', 'cd/IoU', 'cd/OA', 'cd/kappa'}
    assert after['cd/F1'] > 0.5 and after['cd/F1'] > before['cd/F1'] + 0.3, (before, after)


def test_oscd_13_bands_train_and_test(tmp_path):
    from mmrsfm.datasets.synthetic import make_oscd
    root = str(tmp_path / 'oscd')
    make_oscd(root, num_train=2, num_val=1, size=48, seed=0)
    cfg = child(tmp_path, OSCD_CFG, root, iters=2, crop=(32, 32))
    work = str(tmp_path / 'work')
    out = run_tool(['tools/train.py', cfg, '--work-dir', work], env=SINGLE_THREAD).stdout
    assert 'Saving checkpoint at 2 iterations' in out and 'in_channels=13' in out.replace(' ', '')
    vis = str(tmp_path / 'vis')
    metrics = evaluate(cfg, osp.join(work, 'iter_2.pth'), str(tmp_path / 'test'), '--show-dir', vis)
    assert 0.0 <= metrics['cd/F1'] <= 1.0 and 0.0 <= metrics['cd/OA'] <= 1.0
    panels = sorted(os.listdir(vis))  # one per test city: A | B | label | prediction, 13 bands shown as 3
    assert len(panels) == 1 and panels[0].endswith('.png')
    label = glob.glob(osp.join(root, 'test_labels', '*', 'cm', '*-cm.tif'))[0]
    h, w = cv2.imread(label, cv2.IMREAD_UNCHANGED).shape[:2]
    assert cv2.imread(osp.join(vis, panels[0])).shape == (h, 4 * w, 3)
    # browse_dataset draws training pairs after the pipeline (48x48 cities, smaller than the crop): A | B | label
    browse = str(tmp_path / 'browse')
    run_tool(['tools/analysis_tools/browse_dataset.py', cfg, '--output-dir', browse, '--num', '2'], env=SINGLE_THREAD)
    assert sorted(os.listdir(browse)) == ['traincity0.png', 'traincity1.png']  # named by city
    assert all(cv2.imread(osp.join(browse, f)).shape == (48, 3 * 48, 3) for f in os.listdir(browse))
