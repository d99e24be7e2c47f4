"""Run a trained model over a whole scene: ``python tools/infer_scene.py CONFIG CHECKPOINT SCENE [SCENE_B] --out DIR``.

Any raster rasterio opens (GeoTIFF / COG / VRT / JP2; PNG / JPEG give pixel coordinates), of any size:
windows are read, inferred in batches and written block by block, so neither the scene nor the output
has to fit in memory. Outputs (in the scene's CRS and transform) in ``--out``:

* segmentation / change detection: ``{scene}_classes.tif`` (uint8 class map, Cloud-Optimized GeoTIFF,
  255 = nodata), with ``--save-probs`` ``{scene}_probs.tif`` (per-class probability x 254);
* rotated detection: ``{scene}_detections.gpkg`` (scene CRS), ``{scene}_detections.geojson``
  (EPSG:4326, RFC 7946), ``{scene}_dota_task1/`` (DOTA Task1 text, scene pixels);
* instance segmentation: ``{scene}_instances.gpkg`` / ``.geojson`` (polygons with holes);
* ``{scene}_summary.json``: what was run and written.

An interrupted run started again with the same arguments continues after the last written batch.
"""
import argparse
import os
import sys

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the config of tools/test.py')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument('scene', help='raster to run on (date A for change detection)')
    parser.add_argument('scene_b', nargs='?', help='date B of a change-detection pair')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--device', default='cpu', help="e.g. 'cpu', 'cuda', 'cuda:1' (default: cpu)")
    parser.add_argument('--batch-size', type=int, default=4, help='windows per forward pass (default: 4)')
    parser.add_argument('--tile', type=int, help="window side in px (default: the config's test crop / resize)")
    parser.add_argument('--overlap', type=int,
                        help="px shared by neighbouring windows (default: the config's crop - stride, else tile/4)")
    parser.add_argument('--bands', nargs='+', help='band names to read, overriding the test pipeline')
    parser.add_argument('--band-names', nargs='+', help="names of the file's bands, for files without descriptions")
    parser.add_argument('--nodata', type=float, help="nodata value of every band (default: the file's)")
    parser.add_argument('--align', action='store_true', help="warp SCENE_B onto SCENE's grid when they differ")
    parser.add_argument('--save-probs', action='store_true', help='also write per-class probabilities')
    parser.add_argument('--score-thr', type=float, help="drop detections below this score (default: the model's)")
    parser.add_argument('--nms-iou-thr', type=float, default=0.1, help='IoU of the cross-tile rotated NMS')
    parser.add_argument('--no-resume', action='store_true', help='start over instead of continuing a run')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.logging import MMLogger

    from mmrsfm.apis import SceneInferencer
    from mmrsfm.utils.preflight import ConfigError
    MMLogger.get_instance('mmrsfm-infer-scene', log_level='INFO')
    try:
        inferencer = SceneInferencer(args.config, args.checkpoint, device=args.device, tile=args.tile,
                                     overlap=args.overlap, batch_size=args.batch_size, cfg_options=args.cfg_options,
                                     score_thr=args.score_thr, nms_iou_thr=args.nms_iou_thr)
        result = inferencer(args.scene, args.scene_b, args.out, bands=args.bands, band_names=args.band_names,
                            nodata=args.nodata, align=args.align, save_probs=args.save_probs,
                            resume=not args.no_resume, progress=not args.no_progress)
    except (ConfigError, ValueError, FileNotFoundError) as e:
        print(f'infer_scene: error: {e}', file=sys.stderr)
        return 2
    for key, path in result.outputs.items():
        print(f'{key}: {os.path.relpath(path) if not os.path.isabs(args.out) else path}')
    return 0 if result.complete else 1


if __name__ == '__main__':
    sys.exit(main())
