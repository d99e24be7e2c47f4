"""The preflight's suggested ``--cfg-options`` keys are ones mmengine accepts: each is applied exactly as
the tools parse it, and the check then passes (or moves on to the next field)."""
import argparse
import os
import os.path as osp
import re

import pytest
from mmengine.config import DictAction

from mmrsfm.utils.preflight import ConfigError, check_data_roots, load_config

from conftest import REPO

DIOR = osp.join(REPO, 'configs/rotated_det/oriented_rcnn/oriented-rcnn-le90_r50_fpn_1xb2-1x_dior-800x800.py')


def _suggested(err: ConfigError) -> str:
    match = re.search(r'--cfg-options (\S+)=', str(err))
    assert match, str(err)
    return match.group(1)


def _parse(option: str) -> dict:
    """``--cfg-options KEY=VALUE`` as tools/train.py parses it."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', option]).cfg_options


@pytest.fixture
def dior_root(tmp_path) -> str:
    root = tmp_path / 'DIOR'
    for sub in ('JPEGImages-trainval', 'JPEGImages-test', 'ImageSets/Main'):
        os.makedirs(root / sub)
    for split in ('train', 'val', 'test'):
        (root / 'ImageSets/Main' / f'{split}.txt').write_text('00001\n')
    return str(root)


def test_concat_dataset_fix_is_accepted_by_mmengine_and_works(dior_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the config's relative data_root 'data/DIOR/' does not exist here
    options = {}
    for expected in ('train_dataloader.dataset.datasets.0.data_root',
                     'train_dataloader.dataset.datasets.1.data_root'):
        cfg = load_config(DIOR, options)
        with pytest.raises(ConfigError) as err:
            check_data_roots(cfg, ['train'])
        key = _suggested(err.value)
        assert key == expected and '[' not in key
        options.update(_parse(f'{key}={dior_root}'))
    cfg = load_config(DIOR, options)
    assert [d.data_root for d in cfg.train_dataloader.dataset.datasets] == [dior_root, dior_root]
    check_data_roots(cfg, ['train'])
    # the old hint's syntax: mmengine stores it as an unused key and the error comes back
    old = load_config(DIOR, _parse(f'train_dataloader.dataset.datasets[0].data_root={dior_root}'))
    assert old.train_dataloader.dataset.datasets[0].data_root == 'data/DIOR/'


def test_wrapped_and_plain_dataset_fixes_apply(dior_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(DIOR, {'train_dataloader.dataset.datasets.0.data_root': dior_root,
                             'train_dataloader.dataset.datasets.1.data_root': dior_root})
    cfg.val_dataloader.dataset.data_prefix.img_path = 'JPEGImages-tst'
    cfg.val_dataloader.dataset.data_root = dior_root
    with pytest.raises(ConfigError) as err:
        check_data_roots(cfg, ['train', 'val'])
    key = _suggested(err.value)
    assert key == 'val_dataloader.dataset.data_prefix.img_path'
    cfg.merge_from_dict(_parse(f'{key}=JPEGImages-test'))
    check_data_roots(cfg, ['train', 'val'])
