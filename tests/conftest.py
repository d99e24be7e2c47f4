"""Shared fixtures: a small DOTA-format dataset and a runner for the tools/ scripts."""
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(
    REPO, 'configs/rotated_det/rotated_fcos/rotated-fcos-hbox-le90_r18-w16_fpn_1xb8-400i_dota-demo-128.py')


@pytest.fixture(scope='session')
def dota_root(tmp_path_factory) -> str:
    """A DOTA-format dataset (48 train / 8 val images of 128x128) shared by the tool tests."""
    from mmrsfm.datasets.synthetic import make_dota
    root = str(tmp_path_factory.mktemp('dota'))
    make_dota(root, num_train=48, num_val=8, seed=1)
    return root


def demo_options(dota_root: str, max_iters: int = 4, **extra) -> List[str]:
    """--cfg-options pointing the demo config at ``dota_root`` with a short schedule."""
    opts = {f'{s}_dataloader.dataset.data_root': dota_root + '/' for s in ('train', 'val', 'test')}
    opts.update({
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': max_iters,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.checkpoint.max_keep_ckpts': 10,
        'default_hooks.logger.interval': 1,
        'train_dataloader.batch_size': 4,
    })
    opts.update(extra)
    return ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]


def _tool_command(args: List[str], env: Optional[Dict[str, str]]) -> tuple:
    """The command line and environment of ``python <args>`` (or a .sh script); ``env`` adds variables."""
    cmd = (['bash'] if args[0].endswith('.sh') else [sys.executable]) + args
    base = dict(os.environ, PYTHON=sys.executable)
    if os.environ.get('PYTEST_XDIST_WORKER'):  # workers share the cores: one thread per tool (SINGLE_THREAD)
        base.setdefault('OMP_NUM_THREADS', '1')
    return cmd, dict(base, **(env or {}))


def run_tool(args: List[str], check: bool = True, timeout: int = 900,
             env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """Run ``python <args>`` (or a .sh script) from the repo root, as a user would; ``env`` adds
    environment variables."""
    cmd, env = _tool_command(args, env)
    proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f'{" ".join(args[:2])} exited {proc.returncode}:\n{proc.stdout[-5000:]}')
    return proc


def start_tool(args: List[str], env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
    """Start ``python <args>`` like :func:`run_tool` without waiting, e.g. to run two tools side by side
    (one per core); collect it with :func:`finish_tool`."""
    cmd, env = _tool_command(args, env)
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish_tool(proc: subprocess.Popen, timeout: int = 900) -> str:
    """Wait for a :func:`start_tool` process; its output, or a test failure with its tail."""
    out = proc.communicate(timeout=timeout)[0]
    if proc.returncode != 0:
        pytest.fail(f'{" ".join(proc.args[1:3])} exited {proc.returncode}:\n{out[-5000:]}')
    return out


#: For the e2e runs of tiny models: one intra-op thread per process. Their ops are so small that a
#: second OpenMP thread costs more than it saves, and far more when other processes share the cores
#: (measured: 0.06 s vs 0.53 s per UPerNet training step on 2 busy cores). Under pytest-xdist every tool
#: gets it by default: the README demo ran 404 s on CI with 2 threads beside the other worker, 273 s with
#: one.
SINGLE_THREAD = {'OMP_NUM_THREADS': '1'}


def write_child_config(path: str, base: str, body: str) -> str:
    """Write a test-only config at ``path`` inheriting the shipped config ``base`` (repo-relative)."""
    with open(path, 'w') as f:
        f.write(f"_base_ = ['{osp.join(REPO, base)}']\n{body}")
    return path


@pytest.fixture
def log_messages():
    """Messages mmrsfm logs through mmengine's current logger during the test."""
    import logging

    from mmengine.logging import MMLogger
    messages, handler = [], logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """Undo any mmengine ``DefaultScope`` a test creates (building a Runner or calling
    ``register_all_modules`` sets one globally), so a later test's registry lookups do not depend
    on which tests ran before it."""
    from mmengine.registry import DefaultScope
    saved = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


#: Child-config lines shrinking a shipped UPerNet / RS-vHeat segmentation config for CPU e2e runs: tiny
#: backbone and heads, 64 px crops and slide windows, a short fixed-lr schedule of ``{iters}`` iterations.
TINY_UPERNET_RS_VHEAT = """
crop_size = (64, 64)
randomness = dict(seed=0)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch=dict(_delete_=True, embed_dims=16, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None,
                            spatial_correction=True), img_size=64, drop_path_rate=0.0, init_cfg=None),
    decode_head=dict(in_channels=[16, 32, 64, 128], channels=32, pool_scales=(1, 2)),
    auxiliary_head=dict(in_channels=64, channels=16),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(48, 48)))
optim_wrapper = dict(optimizer=dict(lr=3e-3, weight_decay=0.0))
param_scheduler = []
train_cfg = dict(max_iters={iters}, val_interval={iters})
default_hooks = dict(checkpoint=dict(interval={iters}), logger=dict(interval=20))
"""


def score_untrained_and_trained(config: str, work: str, iters: int) -> tuple:
    """``(untrained metrics, trained metrics, tools/train.py output)`` of ``config``: tools/test.py on the
    freshly initialised model runs beside tools/train.py (one core each), then tools/test.py on
    ``iter_<iters>.pth``. Work folders go under ``work``."""
    from mmrsfm.utils.preflight import load_config
    from mmrsfm.utils.tool_setup import parse_test_metrics, save_untrained_checkpoint
    untrained = osp.join(work, 'untrained.pth')
    save_untrained_checkpoint(load_config(config), untrained)
    before = start_tool(['tools/test.py', config, untrained, '--work-dir', osp.join(work, 'test0')], env=SINGLE_THREAD)
    train = start_tool(['tools/train.py', config, '--work-dir', osp.join(work, 'train')], env=SINGLE_THREAD)
    before, out = parse_test_metrics(finish_tool(before, timeout=600)), finish_tool(train, timeout=600)
    assert f'Iter(train) [{iters}/{iters}]' in out
    after = start_tool(['tools/test.py', config, osp.join(work, 'train', f'iter_{iters}.pth'), '--work-dir',
                        osp.join(work, 'test1')], env=SINGLE_THREAD)
    return before, parse_test_metrics(finish_tool(after, timeout=600)), out


def pytest_collection_modifyitems(config, items) -> None:
    """Longest first, so that pytest-xdist's two workers (``--dist loadfile --no-loadscope-reorder``, as
    tools/run_tests.sh runs them, hand out files in this order) finish together: the quickstart (~3 min, one file) first, then the end-to-end tool runs in
    ``tests/test_tools/`` (most of the suite's time), then the unit tests, which fill the gaps. In the
    collection order the quickstart came last and ran alone for its last ~3 minutes."""
    def rank(item) -> int:
        path = str(item.fspath)
        return 0 if path.endswith('test_quickstart.py') else 1 if f'{os.sep}test_tools{os.sep}' in path else 2

    items.sort(key=rank)  # stable: the order within each group is unchanged
