"""Checks run by ``tools/train.py`` and ``tools/test.py`` before anything heavy is built.

Each failure names the file or config field at fault and the fix, instead of surfacing minutes later
as a ``KeyError`` deep inside a dataset or an ``UnpicklingError`` inside ``torch.load``.
"""
import glob
import os
import os.path as osp
import socket
import zipfile
from typing import Iterator, List, Optional, Sequence, Tuple
from urllib.parse import urlparse

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
    """(field path, dataset cfg) for a dataset and every dataset it wraps (Concat/Repeat/...).

    Field paths are written as ``--cfg-options`` takes them: list items by index after a dot
    (``train_dataloader.dataset.datasets.0.data_root``; mmengine rejects ``datasets[0]``).
    """
    if not isinstance(cfg, dict):
        return
    yield field, cfg
    if isinstance(cfg.get('dataset'), dict):
        yield from _datasets(cfg['dataset'], f'{field}.dataset')
    for i, sub in enumerate(cfg.get('datasets') or []):
        yield from _datasets(sub, f'{field}.datasets.{i}')


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


#: Prefixes of mmengine's model-zoo checkpoint names (resolved to URLs by mmengine's checkpoint loaders).
ZOO_PREFIXES = ('torchvision://', 'modelzoo://', 'open-mmlab://', 'openmmlab://', 'mmcls://')


def iter_pretrained(cfg: dict, field: str = 'model') -> Iterator[Tuple[str, str]]:
    """``(field path, checkpoint)`` of every weight file a model config loads when it is initialised:
    ``init_cfg=dict(type='Pretrained', checkpoint=...)`` (a dict or a list of dicts) at any depth,
    and mmseg's model-level ``pretrained='...'``. Paths are in ``--cfg-options`` syntax."""
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            sub = f'{field}.{key}'
            if key == 'pretrained' and isinstance(value, str) and value:
                yield sub, value
            elif key == 'init_cfg':
                inits = value if isinstance(value, (list, tuple)) else [value]
                for i, init in enumerate(inits):
                    where = sub if isinstance(value, dict) else f'{sub}.{i}'
                    if isinstance(init, dict) and init.get('type') == 'Pretrained' and init.get('checkpoint'):
                        yield f'{where}.checkpoint', str(init['checkpoint'])
            else:
                yield from iter_pretrained(value, sub)
    elif isinstance(cfg, (list, tuple)):
        for i, value in enumerate(cfg):
            yield from iter_pretrained(value, f'{field}.{i}')


def resolve_weights_url(checkpoint: str) -> Optional[str]:
    """The URL mmengine downloads ``checkpoint`` from (model-zoo names resolved as mmengine does), or
    None for a local file or a storage backend (``s3://``, ...).

    Raises:
        ConfigError: A model-zoo name that mmengine does not know.
    """
    from mmengine.runner import checkpoint as ckpt
    if checkpoint.startswith(('http://', 'https://')):
        return checkpoint
    if not checkpoint.startswith(ZOO_PREFIXES):
        return None
    scheme, name = checkpoint.split('://', 1)
    if scheme in ('torchvision', 'modelzoo'):
        table = ckpt.get_torchvision_models()
    elif scheme == 'mmcls':
        table = ckpt.get_mmcls_models()
    else:
        table = ckpt.get_external_models()
        name = ckpt.get_deprecated_model_names().get(name, name)
    if name not in table:
        raise ConfigError(f"'{checkpoint}' is not a model-zoo name mmengine knows (no '{name}' in its "
                          f'{scheme}:// table). Fix: correct the name, or give a local file or a URL.')
    url = table[name]
    if not url.startswith(('http://', 'https://')):  # open-mmlab:// entries may be files under ~/.cache/mmengine
        return None
    return url


def weights_cache_path(url: str) -> str:
    """Where mmengine (``torch.hub.load_state_dict_from_url``) caches the download of ``url``."""
    import torch
    return osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(urlparse(url).path))


def can_download(url: str, timeout: float = 3.0) -> Tuple[bool, str]:
    """Whether a TCP connection to the host of ``url`` opens within ``timeout`` seconds, and why not."""
    parts = urlparse(url)
    port = parts.port or (443 if parts.scheme == 'https' else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as e:
        return False, f'{parts.hostname}:{port} unreachable: {e}'
    return True, ''


def _init_fix(field: str) -> str:
    if field.endswith('.checkpoint'):
        holder = field[:-len('.checkpoint')]
        return (f'point the config at a local copy with --cfg-options {field}=/path/to/the/file, or train from '
                f'scratch with --cfg-options {holder}=None' + (
                    '' if holder.endswith('init_cfg') else ' (or remove that init_cfg entry)'))
    return f'point the config at a local copy with --cfg-options {field}=/path/to/the/file, or set {field}=None'


def check_pretrained_weights(cfg: Config, timeout: float = 3.0) -> List[str]:
    """Check that every weight file the model loads at initialisation (see :func:`iter_pretrained`)
    is there: a local file exists, a URL / model-zoo name is in the download cache or its host can be
    reached. Otherwise an offline machine dies at start-up with a bare ``URLError`` naming no field.

    Returns:
        The checkpoints checked (for logging).

    Raises:
        ConfigError: naming the config field, the file, where it is expected and how to get it.
    """
    checked = []
    model = cfg.get('model')
    for field, checkpoint in iter_pretrained(model if isinstance(model, dict) else {}):
        if checkpoint.startswith(ZOO_PREFIXES) or _is_remote(checkpoint):
            url = resolve_weights_url(checkpoint)
            if url is None:  # s3://, pavi://, or a zoo entry that is a local file: left to mmengine
                continue
            cached = weights_cache_path(url)
            if not osp.isfile(cached):
                ok, why = can_download(url, timeout)
                if not ok:
                    raise ConfigError(
                        f"{field} = '{checkpoint}' must be downloaded from {url} at start-up, but it is not in "
                        f"the download cache ('{cached}') and {why}. Fix (offline machine): download that URL "
                        f'on a machine with internet access and copy the file to {cached} (the cache folder '
                        f'follows $TORCH_HOME), or {_init_fix(field)}.')
        else:
            path = osp.expanduser(checkpoint)
            if not osp.isfile(path):
                raise ConfigError(
                    f"{field} = '{checkpoint}' does not exist (resolved: {osp.abspath(path)}). Fix: make it as "
                    f"the config's header says (official releases convert with tools/model_converters/), or "
                    f'{_init_fix(field)}.')
        checked.append(checkpoint)
    return checked
