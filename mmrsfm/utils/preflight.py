"""Checks run by ``tools/train.py`` and ``tools/test.py`` before anything heavy is built.

Each failure names the file or config field at fault and the fix, instead of surfacing minutes later
as a ``KeyError`` deep inside a dataset or an ``UnpicklingError`` inside ``torch.load``.
"""
import glob
import os
import os.path as osp
import zipfile
from typing import Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config

CONFIG_SUFFIXES = ('.py', '.json', '.yaml', '.yml')
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class ConfigError(ValueError):
    """A config (or a path it names) cannot be used; the message says which field and how to fix it."""


def _suggest_configs(name: str) -> List[str]:
    stem = osp.splitext(osp.basename(name))[0]
    pattern = osp.join(REPO_ROOT, 'configs', '**', f'*{stem}*.py')
    return sorted(osp.relpath(p, os.getcwd()) for p in glob.glob(pattern, recursive=True))[:5]


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Load a config file, with a clear error for a missing or unsupported path."""
    if not osp.isfile(path):
        hint = _suggest_configs(path)
        did_you_mean = (' Did you mean: ' + ', '.join(hint) + '?') if hint else (
            ' Configs shipped with mmrsfm are under configs/ (e.g. `ls configs/*/*/`).')
        raise ConfigError(f"Config file '{path}' does not exist.{did_you_mean}")
    if not path.endswith(CONFIG_SUFFIXES):
        raise ConfigError(f"Config file '{path}' must end with one of {CONFIG_SUFFIXES}; "
                          f'pass the Python config, not a checkpoint or a log.')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _is_remote(path: str) -> bool:
    return '://' in str(path)


def _datasets(cfg: dict, field: str) -> Iterator[Tuple[str, dict]]:
    """(field path, dataset cfg) for a dataset and every dataset it wraps (Concat/Repeat/...)."""
    if not isinstance(cfg, dict):
        return
    yield field, cfg
    if isinstance(cfg.get('dataset'), dict):
        yield from _datasets(cfg['dataset'], f'{field}.dataset')
    for i, sub in enumerate(cfg.get('datasets') or []):
        yield from _datasets(sub, f'{field}.datasets[{i}]')


def check_data_roots(cfg: Config, splits: Sequence[str]) -> None:
    """Check that each dataset's ``data_root``, ``ann_file`` and ``data_prefix`` paths exist.

    Args:
        cfg: The loaded config.
        splits: Which loaders the command will run: any of ``'train'``, ``'val'``, ``'test'``.
    """
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or (split == 'val' and cfg.get('val_cfg') is None):
            continue
        for field, ds in _datasets(loader.get('dataset'), f'{split}_dataloader.dataset'):
            backend = (ds.get('backend_args') or {}).get('backend', 'local')
            root = ds.get('data_root') or ''
            if backend != 'local' or _is_remote(root):
                continue
            if root and not osp.isdir(root):
                raise ConfigError(
                    f"{field}.data_root = '{root}' is not a directory (resolved: {osp.abspath(root)}). "
                    f'Fix: put the dataset there, or point the config at it with '
                    f'--cfg-options {field}.data_root=/path/to/dataset/')
            paths = [('ann_file', ds.get('ann_file'))]
            prefix = ds.get('data_prefix')
            if isinstance(prefix, dict):
                paths += [(f'data_prefix.{k}', v) for k, v in prefix.items() if isinstance(v, str)]
            for key, rel in paths:
                if not rel or not isinstance(rel, str) or _is_remote(rel):
                    continue
                full = osp.join(root, rel)
                if not osp.exists(full):
                    raise ConfigError(
                        f"{field}.{key} = '{rel}' does not exist (resolved: {osp.abspath(full)}). "
                        f'Fix: check the dataset layout under data_root, or set '
                        f'--cfg-options {field}.{key}=...')


def check_checkpoint(path: str, field: str) -> None:
    """Check that a local checkpoint path exists and holds a ``torch.save`` file.

    Remote URLs are left to mmengine's loaders. Only the file's container format is read here (a
    zip archive, or a legacy pickle stream), so the check is cheap even for multi-GB checkpoints.
    """
    if _is_remote(path):
        return
    if not osp.exists(path):
        raise FileNotFoundError(
            f"{field} = '{path}' does not exist. Fix: pass the path of a checkpoint written by "
            f'tools/train.py (e.g. work_dirs/<config>/iter_1000.pth or .../last_checkpoint), or a URL.')
    if osp.isdir(path):
        raise IsADirectoryError(
            f"{field} = '{path}' is a directory. Fix: pass a .pth file inside it "
            f"(its newest one is named in '{osp.join(path, 'last_checkpoint')}').")
    if not zipfile.is_zipfile(path):
        with open(path, 'rb') as f:
            magic = f.read(2)
        if magic[:1] != b'\x80':  # pickle protocol >= 2 opcode, as torch's legacy format starts
            raise ValueError(
                f"{field} = '{path}' is not a PyTorch checkpoint (neither a torch.save zip archive "
                f'nor a legacy pickle; first bytes {magic!r}). Fix: pass a .pth file written by '
                f'torch.save / tools/train.py; convert official releases with tools/model_converters/.')
