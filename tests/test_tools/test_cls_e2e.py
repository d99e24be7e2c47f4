"""Scene classification end to end through tools/train.py and tools/test.py, on generated data in the
released layouts, with the shipped configs shrunk to CPU size (tiny backbones, small images):

* AID (single-label, RS-vHeat config, 50 % split written by the split tool's function): OA rises far
  above the untrained model's;
* BigEarthNet-S2 v1.0 (multi-label, 19 classes, SpectralGPT config, official split and exclusion lists):
  micro mAP rises;
* EuroSAT 13-band release with the SpectralGPT linear-probe config: trains from a saved initial checkpoint,
  the encoder leaves training bit-identical, the head does not, and tools/test.py scores the result.

The untrained scores come from each config's own test loop in this process; the three single-threaded
trainings run side by side.
"""
import os
import os.path as osp
import re

import pytest
import torch

from conftest import SINGLE_THREAD, finish_tool, run_tool, start_tool, write_child_config

pytestmark = pytest.mark.e2e

CLS = 'configs/cls/'
ITERS = 40
COMMON = f"""
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={ITERS}, val_interval={ITERS})
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5)]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(by_epoch=False, interval={ITERS}, save_best=None))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
auto_scale_lr = dict(enable=False)
"""
LOADER = 'num_workers=0, persistent_workers=False'


def _aid_config(path: str, root: str) -> str:
    """RS-vHeat AID 50 % config, RS-vHeat shrunk to 16 channels, 64 px, 6 classes."""
    return write_child_config(path, CLS + 'rs_vheat/rs-vheat-base_8xb180-800e_aid-tr50-224.py', COMMON + f"""
classes = {AID6!r}
model = dict(backbone=dict(arch=dict(_delete_=True, embed_dims=16, depths=(1, 1, 2, 1), post_norm=True, layer_scale=1e-5,
                                     spatial_correction=True), img_size=64, drop_path_rate=0.0, init_cfg=None),
             head=dict(num_classes=6, in_channels=128), data_preprocessor=dict(num_classes=6))
pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(64, 64), interpolation='bicubic',
            backend='pillow'), dict(type='PackInputs')]
train_dataloader = dict(batch_size=16, {LOADER}, dataset=dict(data_root='{root}/', metainfo=dict(classes=classes),
                        pipeline=pipeline))
val_dataloader = dict(batch_size=32, {LOADER}, dataset=dict(data_root='{root}/', metainfo=dict(classes=classes),
                      pipeline=pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.05))
""")


def _bigearthnet_config(path: str, root: str) -> str:
    """SpectralGPT BigEarthNet config, SpectralGPT shrunk (2 blocks of 32 channels), 32 px crops."""
    return write_child_config(path, CLS + 'spectralgpt/spectralgpt-base_2xb16-accum8-150e_bigearthnet-s2-128.py',
                              COMMON + f"""
model = dict(backbone=dict(arch=dict(_delete_=True, embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
                           img_size=32, drop_path_rate=0.0, init_cfg=None), head=dict(in_channels=32))
train_pipeline = [dict(type='mmrsfm.LoadBigEarthNetPatch'),
                  dict(type='mmrsfm.SigmaRangeScale', mean={{{{_base_.band_mean}}}}, std={{{{_base_.band_std}}}}),
                  dict(type='mmrsfm.RandomResizedCrop', size=32, scale=(0.6, 1.0)), dict(type='PackInputs')]
test_pipeline = [dict(type='mmrsfm.LoadBigEarthNetPatch'),
                 dict(type='mmrsfm.SigmaRangeScale', mean={{{{_base_.band_mean}}}}, std={{{{_base_.band_std}}}}),
                 dict(type='Resize', scale=(32, 32), interpolation='bicubic'), dict(type='PackInputs')]
train_dataloader = dict(batch_size=8, {LOADER}, dataset=dict(data_root='{root}/', pipeline=train_pipeline))
val_dataloader = dict(batch_size=16, {LOADER}, dataset=dict(data_root='{root}/', pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=2e-3), accumulative_counts=1)
""")


def _eurosat_probe_config(path: str, root: str, init: str) -> str:
    """SpectralGPT EuroSAT linear-probe config, SpectralGPT shrunk, 32 px, trained from ``init``."""
    return write_child_config(path, CLS + 'spectralgpt/spectralgpt-base_linear-probe_2xb16-accum8-100e_eurosat-ms-128.py',
                              COMMON + f"""
model = dict(backbone=dict(arch=dict(_delete_=True, embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
                           img_size=32, frozen_stages=2, init_cfg=None), head=dict(in_channels=32))
load = dict(type='mmrsfm.LoadMultiBandImage', band_names={{{{_base_.release_bands}}}}, bands={{{{_base_.bands}}}})
train_pipeline = [load, dict(type='mmrsfm.RandomResizedCrop', size=32, scale=(0.6, 1.0)),
                  dict(type='RandomFlip', prob=0.5, direction='horizontal'), dict(type='PackInputs')]
test_pipeline = [load, dict(type='Resize', scale=(36, 36), interpolation='bicubic'),
                 dict(type='CenterCrop', crop_size=32), dict(type='PackInputs')]
train_dataloader = dict(batch_size=16, {LOADER}, dataset=dict(data_root='{root}/', pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, {LOADER}, dataset=dict(data_root='{root}/', pipeline=test_pipeline))
test_dataloader = dict(batch_size=32, {LOADER}, dataset=dict(data_root='{root}/', pipeline=test_pipeline))
optim_wrapper = dict(optimizer=dict(lr=1e-2))
load_from = '{init}'
""")


AID6 = ('Airport', 'BareLand', 'Beach', 'Forest', 'Parking', 'River')


def _untrained(cfg_path: str, work_dir: str) -> dict:
    """Metrics of the freshly initialised model (seed 0, as training starts) from the config's test loop,
    and the path of its checkpoint."""
    from mmengine.runner import Runner

    from mmrsfm.utils.preflight import load_config
    from mmrsfm.utils.tool_setup import save_untrained_checkpoint
    cfg = load_config(cfg_path)
    os.makedirs(work_dir, exist_ok=True)
    ckpt = osp.join(work_dir, 'untrained.pth')
    save_untrained_checkpoint(cfg, ckpt)
    cfg.merge_from_dict(dict(work_dir=work_dir, load_from=ckpt))
    return dict(Runner.from_cfg(cfg).test(), checkpoint=ckpt)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """{name: (untrained metrics, tools/train.py output, work dir)}."""
    from mmrsfm.datasets.scene_classification import scan_class_folders, stratified_split, write_split_files
    from mmrsfm.datasets.synthetic import make_aid, make_bigearthnet, make_eurosat_ms
    tmp = tmp_path_factory.mktemp('cls')
    aid, ben, euro = (str(tmp / n / 'data') for n in ('aid', 'ben', 'euro'))
    make_aid(aid, per_class=24, size=64, classes=AID6, seed=0)
    write_split_files(stratified_split(scan_class_folders(aid)[0], 0.5, seed=0), aid, 0.5)
    make_bigearthnet(ben, num_train=64, num_val=32, num_test=8, seed=0)
    make_eurosat_ms(euro, per_class=12, size=32, seed=0)
    configs = {
        'aid': _aid_config(str(tmp / 'aid' / 'cfg.py'), aid),
        'ben': _bigearthnet_config(str(tmp / 'ben' / 'cfg.py'), ben),
    }
    untrained = {name: _untrained(cfg, str(tmp / name / 'untrained')) for name, cfg in configs.items()}
    configs['euro'] = _eurosat_probe_config(str(tmp / 'euro' / 'cfg.py'), euro, str(tmp / 'euro' / 'init.pth'))
    untrained['euro'] = _untrained(configs['euro'], str(tmp / 'euro' / 'untrained'))
    os.replace(untrained['euro']['checkpoint'], str(tmp / 'euro' / 'init.pth'))
    procs = {name: start_tool(['tools/train.py', cfg, '--work-dir', str(tmp / name / 'train')], env=SINGLE_THREAD)
             for name, cfg in configs.items()}
    out = {name: finish_tool(proc, timeout=600) for name, proc in procs.items()}
    return {name: (untrained[name], out[name], str(tmp / name), configs[name]) for name in configs}


def _final(out: str, key: str) -> float:
    assert f'Iter(train) [{ITERS}/{ITERS}]' in out
    return float(re.findall(rf'Iter\(val\) \[\d+/\d+\].*?{re.escape(key)}: ([\d.]+)', out)[-1])


def test_aid_single_label_learns_through_the_tools(runs):
    before, out, _, _ = runs['aid']
    after = _final(out, 'accuracy/top1')
    assert "type='mmrsfm.AIDDataset'" in out and "split_file='train_50.txt'" in out and 'Mixup' in out
    print(f'AID (6 classes, 50 % split): OA untrained {before["accuracy/top1"]:.1f} -> {ITERS} iterations {after:.1f}')
    assert before['accuracy/top1'] < 40 and after > 70  # chance is 16.7


def test_bigearthnet_multi_label_micro_map_rises(runs):
    before, out, _, _ = runs['ben']
    after = _final(out, 'multi-label/mAP_micro')
    assert "type='mmrsfm.BigEarthNetDataset'" in out and 'MultiLabelSoftMarginLoss' in out
    assert re.search(r'excluded \d+ patch', out, re.I) or 'patches_with_cloud_and_shadow.csv' in out
    print(f'BigEarthNet-S2 (19 classes): micro mAP untrained {before["multi-label/mAP_micro"]:.1f} -> '
          f'{ITERS} iterations {after:.1f}')
    assert after > before['multi-label/mAP_micro'] + 15


def test_eurosat_linear_probe_keeps_the_encoder_and_scores_with_test_py(runs):
    before, out, work, cfg = runs['euro']
    with open(osp.join(work, 'train', 'last_checkpoint')) as f:
        trained = f.read().strip()
    init = torch.load(osp.join(work, 'init.pth'), map_location='cpu', weights_only=False)['state_dict']
    final = torch.load(trained, map_location='cpu', weights_only=False)['state_dict']
    backbone = [k for k in init if k.startswith('backbone.')]
    assert backbone and all(torch.equal(init[k], final[k]) for k in backbone), 'linear probing changed the encoder'
    assert not torch.equal(init['head.fc.weight'], final['head.fc.weight'])
    assert 'band_names' in out or 'LoadMultiBandImage' in out
    result = run_tool(['tools/test.py', cfg, trained, '--work-dir', osp.join(work, 'test')])
    from mmrsfm.utils.tool_setup import parse_test_metrics
    after = parse_test_metrics(result.stdout)['accuracy/top1']
    print(f'EuroSAT-MS linear probe (10 classes): OA untrained {before["accuracy/top1"]:.1f} -> {after:.1f}')
    assert after > before['accuracy/top1'] + 20
