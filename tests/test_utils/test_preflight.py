import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmrsfm.utils.preflight import ConfigError, check_checkpoint, check_data_roots, load_config

from conftest import DEMO_CONFIG


def test_missing_config_suggests_shipped_ones():
    with pytest.raises(ConfigError) as err:
        load_config('rotated-fcos-hbox-le90_r18-w16_fpn_1xb8-400i_dota-demo-128.py')
    assert "does not exist" in str(err.value)
    assert 'Did you mean: configs/rotated_det/rotated_fcos/' in str(err.value)


def test_unknown_config_lists_where_configs_are(tmp_path):
    with pytest.raises(ConfigError, match=r"'nope\.py' does not exist\. Configs shipped with mmrsfm are"):
        load_config('nope.py')


def test_config_with_wrong_suffix(tmp_path):
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'x')
    with pytest.raises(ConfigError, match='must end with one of'):
        load_config(str(ckpt))


def _cfg(dota_root, **dataset):
    ds = dict(type='DOTADataset', data_root=dota_root, ann_file='train/annfiles/',
              data_prefix=dict(img_path='train/images/'))
    ds.update(dataset)
    return Config(dict(train_dataloader=dict(dataset=ds), val_cfg=dict(),
                       val_dataloader=dict(dataset=dict(type='RepeatDataset', times=2,
                                                        dataset=dict(ds)))))


def test_data_roots_ok(dota_root):
    check_data_roots(_cfg(dota_root), ['train', 'val'])


def test_missing_data_root_names_field_and_fix(tmp_path):
    missing = str(tmp_path / 'no_such_dir')
    with pytest.raises(ConfigError) as err:
        check_data_roots(_cfg(missing), ['train'])
    msg = str(err.value)
    assert f"train_dataloader.dataset.data_root = '{missing}' is not a directory" in msg
    assert '--cfg-options train_dataloader.dataset.data_root=' in msg


def test_missing_ann_file_in_wrapped_dataset(dota_root):
    cfg = _cfg(dota_root)
    cfg.val_dataloader.dataset.dataset.ann_file = 'valx/annfiles/'
    with pytest.raises(ConfigError, match=r"val_dataloader\.dataset\.dataset\.ann_file = 'valx/annfiles/'"):
        check_data_roots(cfg, ['train', 'val'])


def test_missing_image_prefix(dota_root):
    with pytest.raises(ConfigError, match=r'data_prefix\.img_path'):
        check_data_roots(_cfg(dota_root, data_prefix=dict(img_path='imgs/')), ['train'])


def test_checkpoint_checks(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_from = '.*nothing\.pth' does not exist"):
        check_checkpoint(str(tmp_path / 'nothing.pth'), 'load_from')
    with pytest.raises(IsADirectoryError, match='is a directory'):
        check_checkpoint(str(tmp_path), 'checkpoint')
    bogus = tmp_path / 'log.pth'
    bogus.write_text('this is a training log, not a checkpoint')
    with pytest.raises(ValueError, match=r"checkpoint = '.*log\.pth' is not a PyTorch checkpoint"):
        check_checkpoint(str(bogus), 'checkpoint')
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {}}, str(good))
    check_checkpoint(str(good), 'checkpoint')
    check_checkpoint('https://example.com/model.pth', 'load_from')  # left to mmengine's loaders


def test_demo_config_loads():
    cfg = load_config(DEMO_CONFIG, {'train_cfg.max_iters': 7})
    assert cfg.default_scope == 'mmrotate' and cfg.train_cfg.max_iters == 7
    assert osp.basename(DEMO_CONFIG).startswith('rotated-fcos')
