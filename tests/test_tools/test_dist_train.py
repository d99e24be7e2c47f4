"""tools/dist_train.sh with 2 CPU processes (gloo): MAE pretraining of a tiny ScalableViT with the plain
Runner (DDP), with mmengine's FlexibleRunner + the shipped FSDP strategy base (per-block units, bf16,
activation checkpointing), and with the shipped DeepSpeed ZeRO-2/3 configs. DDP and FSDP write full
checkpoints with the same keys; DeepSpeed's sharded checkpoint directories go through the converter."""
import glob

import pytest
import torch

from conftest import SINGLE_THREAD, run_tool
from test_scalable_vit_pretrain_e2e import PRETRAIN, build_downstream, tiny_pretrain_config

pytestmark = pytest.mark.e2e

FSDP_CONFIG = 'configs/pretrain/scalable_vit/mae_vit-1.3b-p16_fsdp-32xb64-bf16-800e_millionaid-224.py'

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


def _train_two_procs(tmp_path, root: str, base: str = PRETRAIN, extra: str = '', port: str = '29531',
                     env: dict = None) -> tuple:
    """Output and ``work_dir/iter_3.pth`` (loaded; its path where it is a DeepSpeed directory)."""
    cfg = tiny_pretrain_config(str(tmp_path / 'mae_tiny_dist.py'), root, iters=3, base=base, extra=extra)
    work = tmp_path / 'work'
    out = run_tool(['tools/dist_train.sh', cfg, '2', '--work-dir', str(work)], timeout=300,
                   env=dict(SINGLE_THREAD, PORT=port, **(env or {}))).stdout
    ckpt = work / 'iter_3.pth'
    return out, str(ckpt) if ckpt.is_dir() else torch.load(str(ckpt), weights_only=True)


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


# The tiny test config replaces the optimizer wrapper; DeepSpeed needs its own (the engine steps the
# optimizer) and a micro-batch equal to the per-process batch of 4.
DEEPSPEED_TINY = """
optim_wrapper = dict(_delete_=True, type='DeepSpeedOptimWrapper', optimizer=dict(type='AdamW', lr=1e-3))
strategy = dict(train_micro_batch_size_per_gpu=4)
"""


@pytest.mark.parametrize('stage, config', [
    (2, 'configs/pretrain/scalable_vit/mae_vit-1.3b-p16_deepspeed-zero2-32xb64-bf16-800e_millionaid-224.py'),
    (3, 'configs/pretrain/scalable_vit/mae_vit-2.4b-p16_deepspeed-zero3-64xb32-bf16-800e_millionaid-224.py'),
])
def test_deepspeed_two_cpu_processes(tmp_path, optical_root, stage, config):
    """The shipped ZeRO-2/3 bf16 configs, shrunk, on DeepSpeed's CPU accelerator: they train, write
    DeepSpeed's sharded checkpoint, and the converter turns it into a backbone file (the fp32 master
    weights) that a downstream config loads."""
    pytest.importorskip('deepspeed')
    out, ckpt_dir = _train_two_procs(tmp_path, optical_root, base=config, extra=DEEPSPEED_TINY,
                                     port=f'2954{stage}', env={'DS_ACCELERATOR': 'cpu'})
    assert "type='DeepSpeedStrategy'" in out and 'Iter(train) [3/3]' in out and 'GPU number: 2' in out
    shards = sorted(p.split('/')[-1] for p in glob.glob(ckpt_dir + '/*.pt'))
    assert shards == [f'bf16_zero_pp_rank_{r}_mp_rank_00_optim_states.pt' for r in (0, 1)] + (
        ['mp_rank_00_model_states.pt'] if stage == 2 else
        [f'zero_pp_rank_{r}_mp_rank_00_model_states.pt' for r in (0, 1)])

    backbone = str(tmp_path / 'vit_from_deepspeed.pth')
    run_tool(['tools/model_converters/scalable_vit2mmrsfm.py', ckpt_dir, backbone], env={'DS_ACCELERATOR': 'cpu'})
    converted = torch.load(backbone, weights_only=True)['state_dict']
    assert all(v.dtype == torch.float32 for v in converted.values())
    model = build_downstream(tmp_path, backbone, None)
    for key in ('patch_embed.proj.weight', 'blocks.1.attn.qkv.weight', 'norm.weight'):
        assert torch.equal(model.backbone.state_dict()[key], converted[key]), key
    # They are the trained weights: the engine's own bf16 copy (whole in ZeRO-2's model states) is
    # the fp32 master rounded to bf16, and a fresh initialisation is far from both.
    fresh = build_downstream(tmp_path, backbone, None, init=False).backbone.state_dict()
    assert not torch.allclose(fresh['blocks.1.attn.qkv.weight'], converted['blocks.1.attn.qkv.weight'], atol=1e-2)
    if stage == 2:
        module = torch.load(ckpt_dir + '/mp_rank_00_model_states.pt', weights_only=False)['module']
        for key in ('patch_embed.proj.weight', 'blocks.1.attn.qkv.weight'):
            assert module['backbone.' + key].dtype == torch.bfloat16
            torch.testing.assert_close(module['backbone.' + key].float(), converted[key], rtol=1e-2, atol=1e-2)
