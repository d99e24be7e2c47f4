"""Draw a config's training samples with their annotations, after the data pipeline.

``python tools/analysis_tools/browse_dataset.py CONFIG --output-dir vis/ [--num 20] [--show]``
Works with the visualizers of mmdet, mmrotate (rotated boxes) and mmseg (masks), and with change
detection pairs (panels: date A | date B | label).
"""
import argparse
import os
import os.path as osp

import mmcv
import numpy as np
from mmengine.config import DictAction
from mmengine.registry import DATASETS, VISUALIZERS, init_default_scope
from mmengine.utils import ProgressBar

import mmrsfm  # noqa: F401
from mmrsfm.utils.preflight import check_data_roots, load_config
from mmrsfm.visualization.change_panel import change_panel, describe_pair


def to_rgb_image(inputs) -> np.ndarray:
    """(C, H, W) pipeline output -> (H, W, 3) uint8 RGB; the first three bands of multispectral data."""
    img = inputs.permute(1, 2, 0).numpy() if hasattr(inputs, 'permute') else np.asarray(inputs)
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    img = img[..., :3][..., ::-1]  # the pipelines load BGR (OpenCV order)
    if img.dtype != np.uint8:
        lo, hi = np.percentile(img, (1, 99))
        img = ((img - lo) / max(hi - lo, 1e-6) * 255).clip(0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)


def main() -> None:
    parser = argparse.ArgumentParser(description='Browse a dataset with annotations drawn')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--output-dir', help='write the drawn images here')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--num', type=int, default=20, help='how many samples to draw')
    parser.add_argument('--show', action='store_true', help='also show each image in a window')
    parser.add_argument('--show-interval', type=float, default=2, help='seconds per shown image')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    args = parser.parse_args()
    if not args.output_dir and not args.show:
        parser.error('give --output-dir and/or --show')

    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrsfm'))
    check_data_roots(cfg, [args.split])
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    visualizer = VISUALIZERS.build(cfg.visualizer)
    visualizer.dataset_meta = dataset.metainfo

    num = min(args.num, len(dataset))
    progress = ProgressBar(num)
    for i in range(num):
        item = dataset[i]
        sample = item['data_samples']
        path = sample.metainfo.get('img_path') or f'{i:06d}.png'
        bands = sample.metainfo.get('bands_per_date')
        if bands:  # a change-detection pair (2C, H, W): one panel, date A | date B | label
            name, bgr = describe_pair(path)
            img = item['inputs'].permute(1, 2, 0).numpy()
            label = sample.gt_sem_seg.data[0].numpy() if 'gt_sem_seg' in sample else None
            image, sample = change_panel(img[..., :bands], img[..., bands:], [label], bgr), None
        else:
            name, image = osp.basename(path), to_rgb_image(item['inputs'])
        out_file = osp.join(args.output_dir, osp.splitext(name)[0] + '.png') if args.output_dir else None
        if sample is None:
            if args.show:
                visualizer.show(image, win_name=name, wait_time=args.show_interval)
            if out_file:
                mmcv.imwrite(image[..., ::-1], out_file)  # RGB panel -> BGR file
        else:
            visualizer.add_datasample(name, image, sample, draw_pred=False,
                                      show=args.show, wait_time=args.show_interval, out_file=out_file)
        progress.update()
    if args.output_dir:
        print(f'\nwrote {num} images to {os.path.abspath(args.output_dir)}')


if __name__ == '__main__':
    main()
