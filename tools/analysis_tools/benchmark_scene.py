"""Whole-scene inference throughput and peak memory at several scene sizes.

    python tools/analysis_tools/benchmark_scene.py                       # 4k, 8k, 16k px, a small segmentor
    python tools/analysis_tools/benchmark_scene.py --sizes 2048 4096 --config CFG --checkpoint CKPT

For each size it writes a georeferenced 3-band GeoTIFF (UTM, tiled + DEFLATE, written window by
window) and runs :class:`mmrsfm.apis.SceneInferencer` on it in a **fresh process**, whose peak
resident memory (``ru_maxrss`` from ``wait4``) is reported: the model, one batch of windows and GDAL's
bounded cache, so it should not grow with the scene. Megapixels/s count scene pixels (inference,
stitching and the final Cloud-Optimized GeoTIFF), not the overlap recomputed between windows.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

# A small segmentor: ResNet-18 (V1c) (3 stages) at 1/8 width + an FCN head, 3 classes, random weights.
SMALL_SEGMENTOR = """
default_scope = 'mmseg'
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True),
    backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8, num_stages=3,
                  strides=(1, 2, 2), dilations=(1, 1, 1), out_indices=(0, 1, 2),
                  norm_cfg=dict(type='BN', requires_grad=True)),
    decode_head=dict(type='FCNHead', in_channels=32, in_index=2, channels=16, num_convs=1, concat_input=False,
                     dropout_ratio=0.0, num_classes=3, norm_cfg=dict(type='BN', requires_grad=True),
                     loss_decode=dict(type='CrossEntropyLoss')),
    test_cfg=dict(mode='slide', crop_size=(1024, 1024), stride=(960, 960)))
test_dataloader = dict(dataset=dict(type='BaseSegDataset', metainfo=dict(classes=('a', 'b', 'c'))))
"""


def write_scene(path: str, size: int, block: int = 1024) -> None:
    """A ``size`` x ``size`` 3-band uint8 GeoTIFF (EPSG:32633, 0.5 m), written one block at a time."""
    import numpy as np
    import rasterio
    from rasterio.transform import Affine
    from rasterio.windows import Window
    profile = dict(driver='GTiff', width=size, height=size, count=3, dtype='uint8', crs='EPSG:32633',
                   transform=Affine(0.5, 0, 400000.0, 0, -0.5, 5400000.0), tiled=True, blockxsize=512,
                   blockysize=512, compress='deflate', BIGTIFF='IF_SAFER')
    rng = np.random.default_rng(0)
    with rasterio.open(path, 'w', **profile) as dst:
        for row in range(0, size, block):
            for col in range(0, size, block):
                h, w = min(block, size - row), min(block, size - col)
                yy, xx = np.mgrid[row:row + h, col:col + w].astype(np.float32)
                base = 120 + 60 * np.sin(xx / 97.0) * np.cos(yy / 61.0)
                data = np.stack([base + 20 * c for c in range(3)]) + rng.normal(0, 8, (3, h, w))
                dst.write(data.clip(0, 255).astype(np.uint8), window=Window(col, row, w, h))


def child(args) -> None:
    """Run one scene in this process and print one JSON line."""
    import torch
    torch.set_num_threads(args.threads)
    from mmrsfm.apis import SceneInferencer
    inferencer = SceneInferencer(args.config, args.checkpoint, device=args.device, tile=args.tile,
                                 overlap=args.overlap, batch_size=args.batch_size)
    t0 = time.perf_counter()
    result = inferencer(args.child, out_dir=args.out, progress=False, resume=False)
    seconds = time.perf_counter() - t0
    print('BENCH ' + json.dumps(dict(seconds=seconds, tiles=result.tiles_inferred, tile=inferencer.tile,
                                     overlap=inferencer.overlap, batch=inferencer.batch_size)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', type=int, nargs='+', default=[4096, 8192, 16384], help='scene sides in px')
    parser.add_argument('--config', help='config (default: a small ResNet-18/8 FCN segmentor)')
    parser.add_argument('--checkpoint', help='checkpoint (default: random weights)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--tile', type=int, help='window side (default: the config\'s)')
    parser.add_argument('--overlap', type=int, help='window overlap (default: the config\'s)')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--threads', type=int, default=os.cpu_count() or 1, help='torch threads')
    parser.add_argument('--work-dir', help='where scenes and outputs go (default: a temporary folder)')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    parser.add_argument('--out', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    work = args.work_dir or tempfile.mkdtemp(prefix='mmrsfm-bench-scene-')
    os.makedirs(work, exist_ok=True)
    if args.config is None:
        args.config = osp.join(work, 'small_segmentor.py')
        with open(args.config, 'w') as f:
            f.write(SMALL_SEGMENTOR)
    rows = []
    for size in args.sizes:
        scene = osp.join(work, f'scene_{size}.tif')
        t0 = time.perf_counter()
        write_scene(scene, size)
        print(f'benchmark_scene: wrote {size}x{size} px scene in {time.perf_counter() - t0:.0f} s', flush=True)
        cmd = [sys.executable, osp.abspath(__file__), '--child', scene, '--out', osp.join(work, f'out_{size}'),
               '--config', args.config, '--device', args.device, '--batch-size', str(args.batch_size),
               '--threads', str(args.threads)]
        for flag, value in (('--checkpoint', args.checkpoint), ('--tile', args.tile), ('--overlap', args.overlap)):
            if value is not None:
                cmd += [flag, str(value)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        lines = [line for line in output.splitlines() if line.startswith('BENCH ')]
        if proc.returncode != 0 or not lines:
            sys.stdout.write(output[-4000:])
            raise SystemExit(f'benchmark_scene: the {size} px run failed ({proc.returncode})')
        info = json.loads(lines[-1][len('BENCH '):])
        rss_mib = usage.ru_maxrss / 1024  # Linux: KiB
        rows.append((size, size * size / 1e6, info['seconds'], size * size / 1e6 / info['seconds'], rss_mib, info))
        print(f'benchmark_scene: {size} px: {rows[-1][3]:.2f} MP/s, peak RSS {rss_mib:.0f} MiB', flush=True)
        os.remove(scene)
    info = rows[0][5]
    print(f"\nwhole-scene inference, {args.device}, {args.threads} threads, window {info['tile']} px, "
          f"overlap {info['overlap']}, batch {info['batch']}, config {osp.basename(args.config)}")
    print('| scene (px) | megapixels | seconds | MP/s | peak RSS (MiB) |')
    print('|---|---|---|---|---|')
    for size, mp, seconds, rate, rss, _ in rows:
        print(f'| {size}x{size} | {mp:.1f} | {seconds:.1f} | {rate:.2f} | {rss:.0f} |')
    spread = (max(r[4] for r in rows) - min(r[4] for r in rows)) / min(r[4] for r in rows)
    print(f'peak RSS spread across sizes: {spread * 100:.1f}% (max-min over min)')


if __name__ == '__main__':
    main()
