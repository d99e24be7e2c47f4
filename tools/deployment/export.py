"""Export a model to ONNX or a torch.export ExportedProgram, optionally checking it against PyTorch.

    python tools/deployment/export.py CONFIG [CHECKPOINT] --format onnx|exported-program --shape H W
        [--dynamic] [--out FILE] [--opset N] [--check] [--backbone-only] [--batch B] [--cfg-options k=v]

Segmentors and change detectors export their tensor forward (logits resized to the input size; inputs
already normalised); ``--backbone-only`` (or a config whose model is a backbone) exports the backbone's
feature maps. See :mod:`mmrsfm.apis.export` for what ``--dynamic`` supports.
"""
import argparse
import sys

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help='checkpoint to load (default: the freshly initialised model)')
    parser.add_argument('--format', default='onnx', choices=['onnx', 'exported-program'])
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'), default=[512, 512],
                        help='input height and width of the exported graph (default: 512 512)')
    parser.add_argument('--dynamic', action='store_true',
                        help='dynamic H and W (multiples of the patch size / total stride); an error for '
                             'models that cannot have them')
    parser.add_argument('--out', help='output file (default: work_dirs/export/<config>.onnx or .pt2)')
    parser.add_argument('--opset', type=int, default=18, help='ONNX opset (default: 18)')
    parser.add_argument('--check', action='store_true',
                        help='compare the exported graph with PyTorch (ONNX Runtime CPU / the loaded program)')
    parser.add_argument('--backbone-only', action='store_true', help="export model.backbone's feature maps")
    parser.add_argument('--batch', type=int, default=1, help='batch size of the example input (default: 1)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmrsfm.apis.export import ExportError, export
    from mmrsfm.utils.preflight import ConfigError
    if args.format == 'onnx' and args.check:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            print('error: --check of an ONNX export needs onnxruntime. Fix: pip install onnxruntime', file=sys.stderr)
            return 2
    try:
        export(args.config, args.checkpoint, args.format, tuple(args.shape), args.dynamic, args.out, args.opset,
               args.check, args.backbone_only, args.batch, args.cfg_options)
    except (ExportError, ConfigError, FileNotFoundError, IsADirectoryError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
