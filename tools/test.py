"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [--out results.pkl] [--show-dir DIR]``.

Works for configs whose ``default_scope`` is mmdet, mmseg, mmrotate, mmpretrain or mmrsfm.
"""
import argparse
import os

from mmengine.config import DictAction
from mmengine.dist import is_main_process

import mmrsfm  # noqa: F401  (version checks; Runner-checkpoint allow-list for torch.load)
from mmrsfm.utils.preflight import ConfigError, check_checkpoint, check_data_roots, load_config
from mmrsfm.utils.tool_setup import build_runner, finish_distributed, format_test_metrics, setup_common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model with mmrsfm')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file (.pth) or URL')
    parser.add_argument('--work-dir', help='the dir to save the evaluation log')
    parser.add_argument('--out', help='dump raw predictions to this pickle file (.pkl)')
    parser.add_argument('--show', action='store_true', help='show predictions in a window')
    parser.add_argument('--show-dir', help='save images with predictions drawn to this directory')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds each image is shown')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. test_dataloader.batch_size=1')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def enable_visualization(cfg, show: bool, show_dir: str, wait_time: float) -> None:
    """Turn on the config's visualization hook (mmdet/mmrotate and mmseg variants differ)."""
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise ConfigError('--show/--show-dir need default_hooks.visualization in the config '
                          "(e.g. dict(type='mmdet.DetVisualizationHook') or 'mmseg.SegVisualizationHook').")
    hook['draw'] = True
    if show:
        hook['show'] = True
        hook['wait_time'] = wait_time
    if show_dir:
        if str(hook.get('type', '')).endswith(('DetVisualizationHook', 'ChangeDetectionVisualizationHook')):
            hook['test_out_dir'] = os.path.abspath(show_dir)  # these hooks write images themselves
        else:
            cfg.visualizer['save_dir'] = os.path.abspath(show_dir)  # mmseg: through the visualizer


def add_dump_metric(cfg, out: str) -> None:
    """Append a metric that pickles every prediction to ``out``."""
    if not out.endswith(('.pkl', '.pickle')):
        raise ConfigError(f"--out '{out}' must end with .pkl or .pickle")
    # mmdet's variant RLE-encodes masks and drops images; mmengine's dumps data samples as they are.
    dump = 'mmdet.DumpDetResults' if cfg.default_scope in ('mmdet', 'mmrotate') else 'DumpResults'
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
    cfg.test_evaluator = list(evaluators) + [dict(type=dump, out_file_path=out)]


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    setup_common(cfg, args.config, args.work_dir, args.launcher)
    check_checkpoint(args.checkpoint, 'checkpoint')
    cfg.load_from = args.checkpoint
    check_data_roots(cfg, ['test'])
    if args.show or args.show_dir:
        enable_visualization(cfg, args.show, args.show_dir, args.wait_time)
    if args.out:
        add_dump_metric(cfg, args.out)

    runner = build_runner(cfg)
    metrics = runner.test()
    if is_main_process():  # one machine-readable line for scripts (the quickstart reads it)
        print(format_test_metrics(metrics), flush=True)
    finish_distributed()


if __name__ == '__main__':
    main()
