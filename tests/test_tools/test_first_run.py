"""First runs without surprises: num_workers=0 alone works, merged DOTA evaluation is a config (no
``_delete_``), and weights the model downloads at start-up are checked before anything is built."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmrsfm.utils import preflight
from mmrsfm.utils.preflight import ConfigError, check_pretrained_weights, iter_pretrained, load_config
from mmrsfm.utils.tool_setup import setup_common

from conftest import DEMO_CONFIG, REPO, demo_options, run_tool, write_child_config

ROTATED = osp.join(REPO, 'configs/rotated_det/oriented_rcnn')
R50_DOTA = osp.join(ROTATED, 'oriented-rcnn-le90_r50_fpn_1xb2-1x_dotav2-ss-1024x1024.py')
R50_POTSDAM = osp.join(REPO, 'configs/seg/upernet/upernet_r50_4xb4-80k_potsdam-512x512.py')


def test_num_workers_0_turns_persistent_workers_off_and_says_so(dota_root, log_messages):
    opts = {f'{s}_dataloader.dataset.data_root': dota_root + '/' for s in ('train', 'val', 'test')}
    opts.update({'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': True,
                 'val_dataloader.num_workers': 0, 'val_dataloader.persistent_workers': True})
    cfg = load_config(DEMO_CONFIG, opts)
    with pytest.raises(ValueError, match='persistent_workers option needs num_workers > 0'):
        torch.utils.data.DataLoader([0], num_workers=0, persistent_workers=True)  # what users met
    setup_common(cfg, DEMO_CONFIG)
    assert cfg.train_dataloader.persistent_workers is False and cfg.val_dataloader.persistent_workers is False
    assert any('train_dataloader.num_workers=0: set train_dataloader.persistent_workers=False' in m
               for m in log_messages)
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    init_default_scope(cfg.default_scope)
    loader = Runner.build_dataloader(cfg.train_dataloader)
    next(iter(loader))


@pytest.mark.parametrize('backbone', ['r50', 'rs-vheat-base'])
def test_dota_merged_evaluation_is_a_config_of_its_own(backbone):
    from mmrsfm.registry import METRICS
    cfg = Config.fromfile(osp.join(ROTATED, f'oriented-rcnn-le90_{backbone}_fpn_1xb2-1x_dotav2-ss-merge-1024x1024.py'))
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        assert evaluator.type == 'mmrsfm.DOTAMergeMetric' and 'metric' not in evaluator
        assert evaluator.ann_dir == 'data/DOTA2_0/val/labelTxt/'
        METRICS.build(evaluator)  # builds as it is: no `_delete_` in --cfg-options
    assert cfg.test_evaluator.outfile_prefix.endswith('/Task1_val')
    val = cfg.val_dataloader.dataset
    assert val.ann_file == '' and val.data_prefix.img_path == 'val/images/'
    assert cfg.train_dataloader.dataset.ann_file == 'train/annfiles/'
    # what users tried before: only the type swapped on the patch-scoring config
    plain = Config.fromfile(R50_DOTA)
    plain.merge_from_dict({'test_evaluator.type': 'mmrsfm.DOTAMergeMetric'})
    with pytest.raises(TypeError, match="unexpected keyword argument 'metric'"):
        METRICS.build(plain.test_evaluator)


def test_pretrained_weights_are_found_in_mmseg_and_mmdet_configs():
    found = dict(iter_pretrained(Config.fromfile(R50_POTSDAM).model))
    assert found == {'model.pretrained': 'open-mmlab://resnet50_v1c'}
    found = dict(iter_pretrained(Config.fromfile(R50_DOTA).model))
    assert found == {'model.backbone.init_cfg.checkpoint': 'torchvision://resnet50'}
    nested = dict(model=dict(backbone=dict(init_cfg=[dict(type='Kaiming'), dict(type='Pretrained', checkpoint='a')])))
    assert dict(iter_pretrained(nested['model'])) == {'model.backbone.init_cfg.1.checkpoint': 'a'}


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty download cache and no network."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(preflight, 'can_download', lambda url, timeout=3.0: (False, 'host unreachable: offline'))
    return tmp_path


def test_offline_machine_gets_the_file_and_how_to_get_it(offline):
    cfg = Config.fromfile(R50_DOTA)
    with pytest.raises(ConfigError) as err:
        check_pretrained_weights(cfg)
    msg = str(err.value)
    url = 'https://download.pytorch.org/models/resnet50-0676ba61.pth'
    cached = osp.join(str(offline), 'torch_home', 'hub', 'checkpoints', 'resnet50-0676ba61.pth')
    assert f"model.backbone.init_cfg.checkpoint = 'torchvision://resnet50' must be downloaded from {url}" in msg
    assert f"not in the download cache ('{cached}')" in msg and 'host unreachable: offline' in msg
    assert f'copy the file to {cached}' in msg
    assert '--cfg-options model.backbone.init_cfg.checkpoint=/path/to/the/file' in msg
    assert '--cfg-options model.backbone.init_cfg=None' in msg
    # each suggested fix works as written
    for option in ({'model.backbone.init_cfg': None}, {'model.backbone.init_cfg.checkpoint': __file__}):
        fixed = Config.fromfile(R50_DOTA)
        fixed.merge_from_dict(option)
        check_pretrained_weights(fixed)
    # and so does the cached file
    os.makedirs(osp.dirname(cached), exist_ok=True)
    torch.save({}, cached)
    assert check_pretrained_weights(cfg) == ['torchvision://resnet50']


def test_mmseg_model_level_pretrained_offline(offline):
    with pytest.raises(ConfigError) as err:
        check_pretrained_weights(Config.fromfile(R50_POTSDAM))
    msg = str(err.value)
    assert "model.pretrained = 'open-mmlab://resnet50_v1c' must be downloaded from https://" in msg
    assert 'or set model.pretrained=None' in msg


def test_missing_local_checkpoint_names_field_and_fix(tmp_path):
    cfg = Config(dict(model=dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='ckpts/nope.pth')))))
    with pytest.raises(ConfigError) as err:
        check_pretrained_weights(cfg)
    assert "model.backbone.init_cfg.checkpoint = 'ckpts/nope.pth' does not exist" in str(err.value)
    assert 'tools/model_converters/' in str(err.value)
    with pytest.raises(ConfigError, match="no 'nosuchnet'"):
        check_pretrained_weights(Config(dict(model=dict(pretrained='torchvision://nosuchnet'))))


@pytest.mark.e2e
def test_train_tool_fails_before_building_with_the_field(dota_root, tmp_path):
    """A URL that cannot resolve (.invalid): what an offline machine sees, deterministically."""
    config = write_child_config(str(tmp_path / 'cfg.py'), osp.relpath(DEMO_CONFIG, REPO), (
        "model = dict(backbone=dict(init_cfg=dict(_delete_=True, type='Pretrained', "
        "checkpoint='https://weights.invalid/resnet18.pth')))\n"))
    proc = run_tool(['tools/train.py', config, '--work-dir', str(tmp_path)] + demo_options(dota_root, 1),
                    check=False)
    assert proc.returncode != 0
    field = "model.backbone.init_cfg.checkpoint = 'https://weights.invalid/resnet18.pth'"
    assert f'{field} must be downloaded' in proc.stdout
    assert 'URLError' not in proc.stdout
