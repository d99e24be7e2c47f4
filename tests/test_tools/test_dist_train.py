"""tools/dist_train.sh with 2 CPU processes (gloo): MAE pretraining of a tiny ScalableViT with the plain
Runner (DDP) and with mmengine's FlexibleRunner + the shipped FSDP strategy base (per-block units, bf16,
activation checkpointing); both write full checkpoints with the same keys."""
import pytest
import torch

from conftest import SINGLE_THREAD, run_tool
from test_vit_pretrain_e2e import PRETRAIN, tiny_pretrain_config

pytestmark = pytest.mark.e2e

FSDP_CONFIG = 'configs/pretrain/vit/mae_vit-1.3b-p16_fsdp-32xb64-bf16-800e_millionaid-224.py'

# On CPU: FSDP's device is the CPU (mmengine defaults it to cuda:LOCAL_RANK), and full state dicts are
# gathered without `offload_to_cpu` (torch 2.10 segfaults cloning an "offloaded" CPU tensor).
FSDP_ON_CPU = """
strategy = dict(model_wrapper=dict(device_id='cpu'), state_dict_cfg=dict(
    _delete_=True, state_dict_type='FULL_STATE_DICT',
    state_dict_config=dict(type='FullStateDictConfig', offload_to_cpu=False, rank0_only=True),
    optim_state_dict_config=dict(type='FullOptimStateDictConfig', offload_to_cpu=False, rank0_only=True)))
"""


@pytest.fixture(scope='module')
def optical_root(tmp_path_factory) -> str:
    from mmrsfm.datasets.synthetic import WRITERS
    root = str(tmp_path_factory.mktemp('optsar'))
    WRITERS['optsar'](root, num_train=16, size=32, seed=0)
    return root


def _train_two_procs(tmp_path, root: str, base: str = PRETRAIN, extra: str = '', port: str = '29531') -> tuple:
    cfg = tiny_pretrain_config(str(tmp_path / 'mae_tiny_dist.py'), root, iters=3, base=base, extra=extra)
    work = tmp_path / 'work'
    out = run_tool(['tools/dist_train.sh', cfg, '2', '--work-dir', str(work)], timeout=300,
                   env=dict(SINGLE_THREAD, PORT=port)).stdout
    return out, torch.load(str(work / 'iter_3.pth'), weights_only=True)


def test_ddp_two_cpu_processes(tmp_path, optical_root):
    out, ckpt = _train_two_procs(tmp_path, optical_root, port='29531')
    assert 'Distributed training: True' in out and "'backend': 'gloo'" in out
    # both ranks joined: rank 0's runtime-environment block names the world size ('GPU number' in mmengine,
    # whatever the device). Not the ranks' own '[Gloo] Rank N' lines: the two processes write them to the
    # same pipe at once, and they come out interleaved mid-line.
    assert 'GPU number: 2' in out
    assert 'MMDistributedDataParallel' in out
    assert 'Iter(train) [3/3]' in out
    assert ckpt['meta']['iter'] == 3 and 'optimizer' in ckpt
    assert ckpt['state_dict']['backbone.blocks.1.attn.qkv.weight'].shape == (96, 32)


def test_fsdp_flexible_runner_two_cpu_processes(tmp_path, optical_root):
    """The shipped 1.3b FSDP config, shrunk: FlexibleRunner + FSDPStrategy through tools/train.py."""
    out, ckpt = _train_two_procs(tmp_path, optical_root, base=FSDP_CONFIG, extra=FSDP_ON_CPU, port='29532')
    assert "strategy = dict(" in out and "type='FSDPStrategy'" in out and 'Iter(train) [3/3]' in out
    sd = ckpt['state_dict']
    # A full (unsharded, fp32) state dict with the plain keys: no FSDP / checkpoint-wrapper prefixes, so it
    # loads downstream exactly like the DDP one.
    assert not any('_fsdp_wrapped_module' in k or '_checkpoint_wrapped_module' in k for k in sd)
    assert sd['backbone.blocks.1.attn.qkv.weight'].shape == (96, 32) and sd['mask_token'].shape == (1, 1, 16)
    assert sd['backbone.blocks.1.attn.qkv.weight'].dtype == torch.float32
