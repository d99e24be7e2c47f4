"""Quickstart (``make demo``): the whole mmrsfm workflow on CPU in a few minutes.

1. write a DOTA-format dataset (3 DOTA v2.0 classes, 128x128 PNGs) under ``data/dota_demo``;
2. evaluate an *untrained* copy of the model with ``tools/test.py`` (the baseline);
3. train a small Rotated FCOS with ``tools/train.py``;
4. evaluate the trained checkpoint with ``tools/test.py`` and print both mAPs;
5. run the trained detector over a generated georeferenced scene (UTM, several times the training
   patch size) with ``tools/infer_scene.py`` and print where the GeoJSON / GeoPackage went.

Exits non-zero unless training beats the untrained baseline by ``--min-gain`` mAP.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

from mmrsfm.utils.preflight import load_config
from mmrsfm.utils.tool_setup import parse_test_metrics, save_untrained_checkpoint

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/rotated_det/rotated_fcos/rotated-fcos-hbox-le90_r18-w16_fpn_1xb8-400i_dota-demo-128.py'


def start_tool(args: list) -> subprocess.Popen:
    """Start ``python tools/<script> ...`` from the repo root (see :func:`finish_tool`)."""
    cmd = [sys.executable] + args
    print('$ ' + ' '.join(cmd), flush=True)
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish_tool(proc: subprocess.Popen) -> str:
    """Wait for a started tool; return its stdout, fail loudly."""
    out = proc.communicate()[0]
    if proc.returncode != 0:
        sys.stdout.write(out[-6000:])
        raise SystemExit(f'quickstart: `{" ".join(proc.args[1:3])}` failed with exit code {proc.returncode}')
    return out


def run_tool(args: list) -> str:
    """Run ``python tools/<script> ...`` from the repo root; return its stdout, fail loudly."""
    return finish_tool(start_tool(args))


def write_demo_scene(path: str, width: int = 640, height: int = 448, seed: int = 7) -> int:
    """A georeferenced scene (EPSG:32633, 0.5 m pixels) drawn like the training images; returns its object count."""
    import numpy as np
    import rasterio
    from rasterio.transform import Affine

    from mmrsfm.datasets.synthetic._common import _draw_scene
    img, objects = _draw_scene(np.random.default_rng(seed), (width, height), ('plane', 'ship', 'storage-tank'),
                               max_objects=14, object_size=(24.0, 44.0))
    with rasterio.open(path, 'w', driver='GTiff', width=width, height=height, count=3, dtype='uint8',
                       crs='EPSG:32633', transform=Affine(0.5, 0, 455000.0, 0, -0.5, 5350000.0)) as dst:
        dst.write(img[..., ::-1].transpose(2, 0, 1))  # drawn in BGR (OpenCV), stored as RGB
        for i, name in enumerate(('red', 'green', 'blue'), start=1):
            dst.set_band_description(i, name)
    return len(objects)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--data-root', default='data/dota_demo')
    parser.add_argument('--work-dir', default='work_dirs/quickstart')
    parser.add_argument('--max-iters', type=int, help='override the config schedule length')
    parser.add_argument('--min-gain', type=float, default=0.2,
                        help='required mAP gain of the trained model over the untrained one')
    args = parser.parse_args()
    t0 = time.time()
    data_root = osp.join(ROOT, args.data_root) if not osp.isabs(args.data_root) else args.data_root
    work_dir = osp.join(ROOT, args.work_dir) if not osp.isabs(args.work_dir) else args.work_dir
    os.makedirs(work_dir, exist_ok=True)

    if not osp.isfile(osp.join(data_root, 'val', 'annfiles', 'P0449.txt')):
        from mmrsfm.datasets.synthetic import make_dota
        make_dota(data_root, seed=0)
        print(f'quickstart: wrote DOTA-format data to {data_root}', flush=True)

    options = {f'{split}_dataloader.dataset.data_root': data_root + '/' for split in ('train', 'val', 'test')}
    if args.max_iters:
        options.update({'train_cfg.max_iters': args.max_iters, 'train_cfg.val_interval': args.max_iters,
                        'default_hooks.checkpoint.interval': args.max_iters})
    cli_options = ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]

    untrained = osp.join(work_dir, 'untrained.pth')
    save_untrained_checkpoint(load_config(osp.join(ROOT, CONFIG), options), untrained)
    # The untrained evaluation needs nothing from training: run it alongside (the second core).
    untrained_eval = start_tool(['tools/test.py', CONFIG, untrained, '--work-dir',
                                 osp.join(work_dir, 'eval_untrained')] + cli_options)
    run_tool(['tools/train.py', CONFIG, '--work-dir', work_dir] + cli_options)
    before = parse_test_metrics(finish_tool(untrained_eval))
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        trained = f.read().strip()
    after = parse_test_metrics(run_tool(['tools/test.py', CONFIG, trained, '--work-dir',
                                         osp.join(work_dir, 'eval_trained')] + cli_options))

    key = 'dota/mAP'
    result = dict(untrained_mAP=before[key], trained_mAP=after[key],
                  checkpoint=trained, seconds=round(time.time() - t0, 1))
    with open(osp.join(work_dir, 'quickstart_result.json'), 'w') as f:
        json.dump(result, f, indent=2)
    print(f"quickstart: DOTA-format demo, {key} untrained {result['untrained_mAP']:.3f} -> trained "
          f"{result['trained_mAP']:.3f} ({result['seconds']:.0f} s; checkpoint {trained})", flush=True)
    if result['trained_mAP'] < result['untrained_mAP'] + args.min_gain:
        raise SystemExit(f'quickstart: training gained less than {args.min_gain} mAP')

    # Whole-scene inference: a georeferenced scene in, map-ready vectors out.
    scene = osp.join(work_dir, 'demo_scene_utm33n.tif')
    drawn = write_demo_scene(scene)
    scene_out = osp.join(work_dir, 'scene')
    run_tool(['tools/infer_scene.py', CONFIG, trained, scene, '--out', scene_out, '--score-thr', '0.3',
              '--overlap', '64', '--no-resume', '--no-progress'])  # 64 px overlap: the largest objects fit
    with open(osp.join(scene_out, 'demo_scene_utm33n_summary.json')) as f:
        summary = json.load(f)
    outputs = summary['outputs']
    print(f"quickstart: scene {summary['width']}x{summary['height']} px in {summary['crs']}: "
          f"{summary['num_objects']} objects detected ({drawn} drawn)\n"
          f"  GeoJSON (EPSG:4326): {outputs['geojson']}\n  GeoPackage ({summary['crs']}): {outputs['gpkg']}\n"
          f"  DOTA Task1 (pixels): {outputs['dota_task1']}", flush=True)


if __name__ == '__main__':
    main()
