"""Config handling shared by ``tools/train.py`` and ``tools/test.py`` (scope-agnostic)."""
import os.path as osp
from typing import Dict

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log

CHECK_HOOK = 'mmrsfm.InputChannelsCheckHook'
#: Start of the one machine-readable line ``tools/test.py`` prints: ``mmrsfm-test-metrics k=v k=v``.
METRICS_PREFIX = 'mmrsfm-test-metrics '


def format_test_metrics(metrics: Dict[str, object]) -> str:
    """The metrics line ``tools/test.py`` prints (read back by :func:`parse_test_metrics`): the scalar
    metrics only; per-class lists and confusion matrices stay in the log above it."""
    scalars = {}
    for k, v in metrics.items():
        arr = np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v)
        if arr.ndim == 0 and arr.dtype.kind in 'fiub':
            scalars[k] = arr.item()
    return METRICS_PREFIX + ' '.join(f'{k}={v}' for k, v in scalars.items())


def parse_test_metrics(output: str) -> Dict[str, float]:
    """The metrics of the last metrics line in ``tools/test.py``'s output; ValueError if it has none."""
    lines = [line for line in output.splitlines() if line.startswith(METRICS_PREFIX)]
    if not lines:
        raise ValueError(f'tools/test.py printed no metrics line:\n{output[-3000:]}')
    return {k: float(v) for k, v in (kv.split('=', 1) for kv in lines[-1][len(METRICS_PREFIX):].split())}


def setup_common(cfg: Config, config_path: str, work_dir: str = None, launcher: str = 'none') -> None:
    """Apply the settings both tools share, in place.

    - ``default_scope`` falls back to ``mmrsfm`` (mmdet/mmseg/mmrotate configs set their own);
    - ``work_dir``: CLI > config > ``./work_dirs/<config name>``;
    - ``--launcher pytorch`` on a machine without CUDA runs on CPU processes (see
      :func:`init_cpu_distributed`), so ``tools/dist_train.sh CONFIG 2`` works there too;
    - :class:`mmrsfm.engine.InputChannelsCheckHook` is added once to ``custom_hooks``;
    - a data loader with ``num_workers=0`` gets ``persistent_workers=False`` (logged; see
      :func:`fix_persistent_workers`).
    """
    cfg.setdefault('default_scope', 'mmrsfm')
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])
    cfg.launcher = launcher
    if launcher == 'pytorch' and not torch.cuda.is_available():
        init_cpu_distributed(cfg)
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') in (CHECK_HOOK, 'InputChannelsCheckHook') for h in hooks):
        hooks.append(dict(type=CHECK_HOOK))
    cfg.custom_hooks = hooks
    fix_persistent_workers(cfg)


def fix_persistent_workers(cfg: Config) -> None:
    """Turn ``persistent_workers`` off in every ``*_dataloader`` with ``num_workers=0``, in place.

    The shipped configs keep workers alive between epochs (``persistent_workers=True``); torch's
    ``DataLoader`` refuses that without workers (``persistent_workers option needs num_workers > 0``),
    so ``--cfg-options train_dataloader.num_workers=0``, the first thing a CPU user sets, would fail.
    """
    for key in sorted(k for k in cfg.keys() if k.endswith('_dataloader')):
        loader = cfg.get(key)
        if isinstance(loader, dict) and loader.get('num_workers', 1) == 0 and loader.get('persistent_workers'):
            loader['persistent_workers'] = False
            print_log(f'{key}.num_workers=0: set {key}.persistent_workers=False (torch allows persistent '
                      f'workers only with num_workers > 0)', logger='current')


def init_cpu_distributed(cfg: Config) -> None:
    """Start a ``gloo`` process group for torchrun-launched CPU processes.

    mmengine's ``init_dist`` always calls ``torch.cuda.set_device`` and its default DDP wrapper
    passes ``device_ids=[LOCAL_RANK]``; both fail without CUDA. Initialising the group here makes
    the Runner skip ``init_dist`` (it only initialises when no group exists), and an explicit
    ``device_ids=None`` lets DDP wrap a CPU module. A config's own ``model_wrapper_cfg`` wins.
    """
    import torch.distributed as dist
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')  # rank/world size from torchrun's environment
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'  # what the log shows
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))


def finish_distributed() -> None:
    """Tear the process group down in step on every rank before the interpreter exits.

    mmengine never destroys it; a gloo rank that exits while its peer is still in teardown can abort
    with ``terminate called without an active exception`` (seen with 2 CPU ranks).
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def build_runner(cfg: Config):
    """Build ``Runner`` (or ``cfg.runner_type``, e.g. ``FlexibleRunner`` for FSDP/DeepSpeed)."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def save_untrained_checkpoint(cfg: Config, path: str, seed: int = 0) -> None:
    """Save ``cfg.model`` freshly initialised (as training starts from it) as a checkpoint for
    ``tools/test.py``: the untrained baseline a trained model is compared with."""
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner import set_random_seed
    init_default_scope(cfg.get('default_scope', 'mmrsfm'))
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict(), 'meta': {'note': 'untrained baseline'}}, path)
