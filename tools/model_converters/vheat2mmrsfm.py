"""Convert official vHeat / RS-vHeat checkpoints for mmrsfm's HeatConductionNet.

    python tools/model_converters/vheat2mmrsfm.py vHeat_base.pth vheat_base_mmrsfm.pth
    python tools/model_converters/vheat2mmrsfm.py rs_vheat_pretrain.pth rs_vheat_opt.pth --rs-vheat --modality opt

The output holds ``{'state_dict': ...}`` with backbone keys; use it in a config as
``backbone=dict(type='mmrsfm.HeatConductionNet', init_cfg=dict(type='Pretrained', checkpoint=OUT))``.
"""
import argparse

from mmrsfm.models.utils import convert_rs_vheat, convert_vheat, load_checkpoint_file, save_converted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--rs-vheat', action='store_true', help='source is an RS-vHeat pretraining checkpoint')
    parser.add_argument('--modality', default='opt', help="RS-vHeat stem to keep ('opt', 'sar' or 'both')")
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='load with weights_only=False (for files that also pickle non-tensor objects); '
                             'only for files from a source you trust')
    args = parser.parse_args()
    ckpt = load_checkpoint_file(args.src, args.trust_checkpoint)
    if args.rs_vheat:
        state_dict = convert_rs_vheat(ckpt, None if args.modality == 'both' else args.modality)
    else:
        state_dict = convert_vheat(ckpt)
    save_converted(state_dict, args.src, args.dst)


if __name__ == '__main__':
    main()
