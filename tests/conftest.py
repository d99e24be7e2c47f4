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
    return cmd, dict(os.environ, PYTHON=sys.executable, **(env or {}))


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
#: (measured: 0.06 s vs 0.53 s per UPerNet training step on 2 busy cores).
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
