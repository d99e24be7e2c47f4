"""Train a model from a config: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]]``.

Works for configs whose ``default_scope`` is mmdet, mmseg, mmrotate, mmpretrain or mmrsfm.
"""
import argparse
import os

from mmengine.config import DictAction
from mmengine.logging import print_log

import mmrsfm  # noqa: F401  (version checks; Runner-checkpoint allow-list for torch.load)
from mmrsfm.utils.preflight import check_checkpoint, check_data_roots, check_pretrained_weights, load_config
from mmrsfm.utils.tool_setup import build_runner, finish_distributed, setup_common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model with mmrsfm')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; with no value, from the newest one in the work dir')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the lr by (total batch size / auto_scale_lr.base_batch_size)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. train_cfg.max_iters=100 model.backbone.depth=18')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher (tools/dist_train.sh uses pytorch)')
    # torchrun passes --local-rank (older launchers --local_rank); mmengine reads LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    setup_common(cfg, args.config, args.work_dir, args.launcher)

    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print_log('AMP is already enabled in the config.', logger='current')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ValueError(f'--auto-scale-lr needs `auto_scale_lr = dict(base_batch_size=...)` in '
                             f'{args.config}: the batch size its lr was tuned for.')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if cfg.get('load_from'):
        check_checkpoint(cfg.load_from, '--resume' if args.resume else 'load_from')
    check_data_roots(cfg, ['train', 'val'])
    check_pretrained_weights(cfg)  # init_cfg / pretrained weights: on disk, cached or downloadable

    runner = build_runner(cfg)
    runner.train()
    finish_distributed()


if __name__ == '__main__':
    main()
