"""Convert official RS4D checkpoints (distilled RSMamba backbones or full RS4D detectors) for mmrsfm's RSMamba.

    python tools/model_converters/rs4d2mmrsfm.py model_parameterskk.pth rsmamba_base_rs4d.pth
    python tools/model_converters/rs4d2mmrsfm.py model_parameterskk.pth rsmamba_base_512.pth --img-size 512

The output holds ``{'state_dict': ...}`` with backbone keys (non-backbone keys are dropped and listed); use
it in a config as ``backbone=dict(type='mmrsfm.RSMamba', arch='base', init_cfg=dict(type='Pretrained',
checkpoint=OUT))``.
"""
import argparse

from mmrsfm.models.utils import convert_rs4d, load_checkpoint_file, save_converted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--img-size', type=int, nargs='+', default=None,
                        help='resize pos_embed for this input size (H [W]); default: keep (RSMamba also resizes '
                        'on load)')
    parser.add_argument('--patch-size', type=int, default=16)
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='load with weights_only=False (for files that also pickle non-tensor objects); '
                             'only for files from a source you trust')
    args = parser.parse_args()
    ckpt = load_checkpoint_file(args.src, args.trust_checkpoint)
    img_size = None if args.img_size is None else (args.img_size * 2)[:2]
    state_dict = convert_rs4d(ckpt, img_size=img_size, patch_size=args.patch_size)
    save_converted(state_dict, args.src, args.dst)


if __name__ == '__main__':
    main()
