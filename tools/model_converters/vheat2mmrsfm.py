"""Convert official vHeat / RS-vHeat checkpoints for mmrsfm's HeatConductionNet.

    python tools/model_converters/vheat2mmrsfm.py vHeat_base.pth vheat_base_mmrsfm.pth
    python tools/model_converters/vheat2mmrsfm.py rs_vheat_pretrain.pth rs_vheat_opt.pth --rs-vheat --modality opt

The output holds ``{'state_dict': ...}`` with backbone keys; use it in a config as
``backbone=dict(type='mmrsfm.HeatConductionNet', init_cfg=dict(type='Pretrained', checkpoint=OUT))``.
"""
import argparse

import torch

from mmrsfm.models.utils import convert_rs_vheat, convert_vheat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--rs-vheat', action='store_true', help='source is an RS-vHeat pretraining checkpoint')
    parser.add_argument('--modality', default='opt', help="RS-vHeat stem to keep ('opt', 'sar' or 'both')")
    args = parser.parse_args()
    # Official releases are plain tensors in a dict; weights_only refuses anything else.
    ckpt = torch.load(args.src, map_location='cpu', weights_only=True)
    if args.rs_vheat:
        state_dict = convert_rs_vheat(ckpt, None if args.modality == 'both' else args.modality)
    else:
        state_dict = convert_vheat(ckpt)
    torch.save({'state_dict': state_dict, 'meta': {'converted_from': args.src}}, args.dst)
    print(f'{len(state_dict)} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
