"""tools/train.py, tools/test.py and tools/dist_train.sh end to end, as subprocesses on CPU."""
import os
import os.path as osp
import pickle
import shutil

import pytest
import torch

from conftest import DEMO_CONFIG, demo_options, run_tool

pytestmark = pytest.mark.e2e


@pytest.fixture(scope='module')
def trained(tmp_path_factory, dota_root):
    """A 4-iteration run with checkpoints at 2 and 4."""
    work = str(tmp_path_factory.mktemp('train'))
    out = run_tool(['tools/train.py', DEMO_CONFIG, '--work-dir', work] + demo_options(dota_root, 4)).stdout
    return work, out


def test_train_writes_runner_checkpoints(trained):
    work, out = trained
    assert osp.isfile(osp.join(work, 'iter_2.pth')) and osp.isfile(osp.join(work, 'iter_4.pth'))
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('iter_4.pth')
    assert 'InputChannelsCheckHook' in out  # added by the tool to every config
    assert 'dota/mAP' in out  # validation ran at the end
    ckpt = torch.load(osp.join(work, 'iter_4.pth'), weights_only=True)  # no trust override needed
    assert ckpt['meta']['iter'] == 4 and 'message_hub' in ckpt and 'optimizer' in ckpt


def test_resume_auto_continues_from_last_checkpoint(trained, tmp_path, dota_root):
    work = str(tmp_path / 'resume')
    shutil.copytree(trained[0], work)
    out = run_tool(['tools/train.py', DEMO_CONFIG, '--work-dir', work, '--resume'] +
                   demo_options(dota_root, 6)).stdout
    assert 'resumed epoch: 0, iter: 4' in out
    assert 'Iter(train) [5/6]' in out and 'Iter(train) [1/6]' not in out
    assert torch.load(osp.join(work, 'iter_6.pth'), weights_only=True)['meta']['iter'] == 6


def test_resume_from_given_checkpoint(trained, tmp_path, dota_root):
    ckpt = osp.join(trained[0], 'iter_2.pth')
    out = run_tool(['tools/train.py', DEMO_CONFIG, '--work-dir', str(tmp_path), '--resume', ckpt] +
                   demo_options(dota_root, 3)).stdout
    assert 'resumed epoch: 0, iter: 2' in out and 'Iter(train) [3/3]' in out


def test_load_from_starts_a_new_schedule_from_weights(trained, tmp_path, dota_root):
    ckpt = osp.join(trained[0], 'iter_4.pth')
    out = run_tool(['tools/train.py', DEMO_CONFIG, '--work-dir', str(tmp_path)] +
                   demo_options(dota_root, 2, load_from=ckpt)).stdout
    assert f'Load checkpoint from {ckpt}' in out
    assert 'Iter(train) [1/2]' in out and 'resumed' not in out
    # The new run started from the loaded weights, not a fresh init: before its first step
    # (lr > 0 changes them) the backbone stem equals the loaded one up to two small updates.
    loaded = torch.load(ckpt, weights_only=True)['state_dict']
    fresh = torch.load(osp.join(str(tmp_path), 'iter_2.pth'), weights_only=True)['state_dict']
    key = 'backbone.conv1.weight'
    drift = (fresh[key] - loaded[key]).abs().mean() / loaded[key].abs().mean()
    assert drift < 0.1, f'weights moved by {drift:.3f} relative: load_from had no effect'


def test_test_tool_dumps_and_draws(trained, tmp_path, dota_root):
    out_pkl, show_dir = str(tmp_path / 'preds.pkl'), str(tmp_path / 'vis')
    out = run_tool(['tools/test.py', DEMO_CONFIG, osp.join(trained[0], 'iter_4.pth'), '--work-dir',
                    str(tmp_path / 'eval'), '--out', out_pkl, '--show-dir', show_dir] +
                   demo_options(dota_root)).stdout
    assert 'mmrsfm-test-metrics dota/mAP=' in out
    with open(out_pkl, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 8 and 'pred_instances' in preds[0]
    drawn = [f for f in os.listdir(show_dir) if f.endswith('.png')]
    assert len(drawn) == 8


def test_dist_train_and_test_two_cpu_processes(tmp_path, dota_root):
    opts = demo_options(dota_root, 2, **{'env_cfg.dist_cfg.backend': 'nccl', 'val_dataloader.batch_size': 2,
                                         'test_dataloader.batch_size': 2})
    out = run_tool(['tools/dist_train.sh', DEMO_CONFIG, '2', '--work-dir', str(tmp_path)] + opts).stdout
    assert 'Distributed launcher: pytorch' in out and "'backend': 'gloo'" in out
    # 8 val images at batch 2 are 4 batches in one process; each of the 2 ranks runs 2 of them
    assert 'Iter(train) [2/2]' in out and 'Iter(val) [2/2]' in out
    ckpt = osp.join(str(tmp_path), 'iter_2.pth')
    assert osp.isfile(ckpt)
    out = run_tool(['tools/dist_test.sh', DEMO_CONFIG, ckpt, '2', '--work-dir', str(tmp_path / 'test')] +
                   opts).stdout
    assert 'Iter(test) [2/2]' in out and 'mmrsfm-test-metrics dota/mAP=' in out


@pytest.mark.parametrize('args, expected', [
    (['tools/train.py', 'configs/nope.py'], "Config file 'configs/nope.py' does not exist"),
    (['tools/train.py', DEMO_CONFIG, '--cfg-options', 'train_dataloader.dataset.data_root=/no/data/'],
     "train_dataloader.dataset.data_root = '/no/data/' is not a directory"),
    (['tools/test.py', DEMO_CONFIG, 'work_dirs/none/iter_9.pth'],
     "checkpoint = 'work_dirs/none/iter_9.pth' does not exist"),
    (['tools/train.py', DEMO_CONFIG, '--resume', 'README.md'], "--resume = 'README.md' is not a PyTorch"),
])
def test_bad_input_fails_with_a_clear_message(args, expected):
    proc = run_tool(args, check=False, timeout=300)
    assert proc.returncode != 0
    assert expected in proc.stdout


def test_analysis_tools(tmp_path, dota_root):
    opts = demo_options(dota_root)
    out = run_tool(['tools/analysis_tools/print_config.py', DEMO_CONFIG] + opts).stdout
    assert "type='mmdet.FCOS'" in out and dota_root in out
    out = run_tool(['tools/analysis_tools/get_flops.py', DEMO_CONFIG] + opts).stdout
    assert 'input shapes (C, H, W): [(3, 128, 128)]' in out and 'FLOPs: 0.1' in out
    vis = str(tmp_path / 'browse')
    run_tool(['tools/analysis_tools/browse_dataset.py', DEMO_CONFIG, '--output-dir', vis, '--num', '3'] + opts)
    assert len(os.listdir(vis)) == 3


SMOKE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data', 'configs')


@pytest.mark.parametrize('scope, writer, config, metric', [
    ('mmseg', 'loveda', 'pspnet_r18-w16_loveda-smoke.py', 'mIoU='),
    ('mmdet', 'coco', 'mask-rcnn_r18-w16_coco-smoke.py', 'coco/segm_mAP='),
])
def test_tools_on_other_scopes(tmp_path, scope, writer, config, metric):
    """train.py / test.py on mmseg's and mmdet's own configs (`mmseg::` / `mmdet::` bases)."""
    from mmrsfm.datasets.synthetic import WRITERS
    root = str(tmp_path / 'data')
    WRITERS[writer](root, num_train=4, num_val=2, seed=0)
    opts = {f'{s}_dataloader.dataset.data_root': root + '/' for s in ('train', 'val', 'test')}
    if writer == 'coco':
        opts.update({f'{s}_evaluator.ann_file': root + '/annotations/instances_val.json' for s in ('val', 'test')})
    cli = ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]
    cfg = osp.join(SMOKE, config)
    out = run_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'work')] + cli).stdout
    assert f"default_scope = '{scope}'" in out and 'Iter(train) [2/2]' in out
    out = run_tool(['tools/test.py', cfg, str(tmp_path / 'work' / 'iter_2.pth'), '--work-dir',
                    str(tmp_path / 'test')] + cli).stdout
    assert 'mmrsfm-test-metrics' in out and metric in out


def test_benchmark_backbones_cpu(tmp_path):
    out_json = str(tmp_path / 'bench.json')
    arch = "{'embed_dims':16,'depths':(1,1,1,1),'post_norm':True,'layer_scale':1e-5,'spatial_correction':True}"
    out = run_tool(['tools/analysis_tools/benchmark_backbones.py', '--models', f'RSvHeat:arch={arch}',
                    '--sizes', '64', '--iters', '1', '--warmup', '1', '--reparameterize', '--out', out_json]).stdout
    assert 'ViT-B/16 (SDPA)' in out and 'device: cpu' in out
    import json
    with open(out_json) as f:
        rows = json.load(f)
    assert [r['vs_vit_b16'] for r in rows][0] == 1.0 and rows[1]['img_per_s'] > 0
    assert rows[2]['model'].endswith('[reparam]') and rows[2]['params_m'] < rows[1]['params_m']  # FVE, to_k gone
    vit = rows[0]
    # ViT-B/16 at 64^2: 17 tokens x 12 blocks, ~86M params; attention FLOPs included on CPU too
    assert 85 < vit['params_m'] < 87 and 2.5 < vit['gflops_per_img'] < 4


def test_benchmark_backbones_onnxruntime_row(tmp_path):
    """--ort: each model's eager row is followed by an [onnxruntime] row, timed after its export passed the
    parity check (RSMamba: the scan exported as in-graph loops)."""
    out_json = str(tmp_path / 'bench.json')
    arch = "{'embed_dims':16,'num_layers':2,'feedforward_channels':32}"
    out = run_tool(['tools/analysis_tools/benchmark_backbones.py', '--models', f'RSMamba:arch={arch},img_size=32',
                    '--sizes', '32', '--iters', '1', '--warmup', '0', '--ort', '--no-baseline', '--out',
                    out_json]).stdout
    import json
    with open(out_json) as f:
        eager, ort = json.load(f)
    assert ort['model'] == eager['model'] + ' [onnxruntime]' and 'ORT max rel err' in out
    assert ort['img_per_s'] > 0 and ort['ort_rel_err'] <= 1e-4 and ort['params_m'] == eager['params_m']


def test_benchmark_hco_agreement():
    out = run_tool(['tools/analysis_tools/benchmark_hco.py', '--grids', '5', '12', '--channels', '8',
                    '--batch', '1', '--iters', '1']).stdout
    rows = [line.split() for line in out.splitlines() if line.strip().split()[:1] in (['5'], ['12'])]
    assert len(rows) == 2 and all(float(r[3]) < 1e-5 for r in rows), out  # matmul and FFT DCTs agree
