"""Convert official RS4D checkpoints (distilled RSMamba backbones or full RS4D detectors) for mmrsfm's RSMamba.

    python tools/model_converters/rs4d2mmrsfm.py model_parameterskk.pth rsmamba_base_rs4d.pth
    python tools/model_converters/rs4d2mmrsfm.py model_parameterskk.pth rsmamba_base_512.pth --img-size 512

The output holds ``{'state_dict': ...}`` with backbone keys (non-backbone keys are dropped and listed); use
it in a config as ``backbone=dict(type='mmrsfm.RSMamba', arch='base', init_cfg=dict(type='Pretrained',
checkpoint=OUT))``.
"""
from functools import partial

from mmrsfm.models.converters import convert_rs4d
from mmrsfm.models.converters.cli import converter_parser, run_conversion


def main() -> None:
    parser = converter_parser(__doc__)
    parser.add_argument('--img-size', type=int, nargs='+', default=None,
                        help='resize pos_embed for this input size (H [W]); default: keep (RSMamba also resizes '
                        'on load)')
    parser.add_argument('--patch-size', type=int, default=16)
    args = parser.parse_args()
    img_size = None if args.img_size is None else (args.img_size * 2)[:2]
    run_conversion(partial(convert_rs4d, img_size=img_size, patch_size=args.patch_size), args.src, args.dst,
                   args.trust_checkpoint)


if __name__ == '__main__':
    main()
