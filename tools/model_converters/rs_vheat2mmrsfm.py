"""Convert official vHeat / RS-vHeat checkpoints for mmrsfm's RSvHeat (the layout is detected).

    python tools/model_converters/rs_vheat2mmrsfm.py vHeat_base.pth vheat_base_mmrsfm.pth
    python tools/model_converters/rs_vheat2mmrsfm.py rs_vheat_pretrain.pth rs_vheat_opt.pth --modality opt
    python tools/model_converters/rs_vheat2mmrsfm.py rs_vheat_finetuned.pth rs_vheat_cls.pth --classifier

vHeat classification / detection releases lose their classifier or task heads; RS-vHeat pretraining
checkpoints (``encoder.`` keys) lose ``fuse_frequency``, the decoders and, with ``--modality opt|sar``,
the other stem. The dropped keys are listed. The output holds ``{'state_dict': ...}`` with backbone
keys; use it in a config as ``backbone=dict(type='mmrsfm.RSvHeat', init_cfg=dict(type='Pretrained',
checkpoint=OUT))``. With ``--classifier`` (a fine-tuned vHeat / RS-vHeat classifier) the output is a whole
mmpretrain ImageClassifier (``backbone.*`` with ``backbone.outnorm3.*`` from ``classifier.0``, ``head.fc.*``
from ``classifier.3``) for ``load_from=OUT``, with ``RSvHeat(out_indices=(3,))``, ``GlobalAveragePooling`` and
``LinearClsHead``.
"""
from functools import partial

from mmrsfm.models.converters import convert_rs_vheat
from mmrsfm.models.converters.cli import converter_parser, run_conversion


def main() -> None:
    parser = converter_parser(__doc__)
    parser.add_argument('--modality', default='opt', choices=('opt', 'sar', 'both'),
                        help="RS-vHeat stem to keep as patch_embed ('both': keep each stem; default: opt)")
    parser.add_argument('--rs-vheat', action='store_true',
                        help='ignored: the layout is detected (kept so that older command lines still run)')
    parser.add_argument('--classifier', action='store_true',
                        help='a fine-tuned classifier: a whole ImageClassifier state dict (backbone.*, head.fc.*)')
    args = parser.parse_args()
    modality = None if args.modality == 'both' else args.modality
    run_conversion(partial(convert_rs_vheat, modality=modality, classifier=args.classifier), args.src, args.dst,
                   args.trust_checkpoint)


if __name__ == '__main__':
    main()
