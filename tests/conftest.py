"""Shared fixtures: a small DOTA-format dataset and a runner for the tools/ scripts."""
import os
import os.path as osp
import subprocess
import sys
from typing import List

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


def run_tool(args: List[str], check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``python <args>`` (or a .sh script) from the repo root, as a user would."""
    cmd = (['bash'] if args[0].endswith('.sh') else [sys.executable]) + args
    env = dict(os.environ, PYTHON=sys.executable)
    proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f'{" ".join(args[:2])} exited {proc.returncode}:\n{proc.stdout[-5000:]}')
    return proc
