"""Convert official SpectralGPT checkpoints (``SpectralGPT.pth``, ``SpectralGPT+.pth``) for mmrsfm.

    python tools/model_converters/spectralgpt2mmrsfm.py SpectralGPT+.pth spectralgpt+_base.pth --trust-checkpoint
    python tools/model_converters/spectralgpt2mmrsfm.py SpectralGPT.pth mae.pth --with-decoder --trust-checkpoint

Without ``--with-decoder`` the output holds ``{'state_dict': ...}`` with SpectralGPT backbone keys (the
decoder and any task head are dropped and listed); use it as ``backbone=dict(type='mmrsfm.SpectralGPT',
init_cfg=dict(type='Pretrained', checkpoint=OUT))``. With ``--with-decoder`` it holds a whole
SpectralMAE (encoder under ``backbone.``, official decoder), for continued pretraining with
``load_from=OUT``. Position embeddings of another image size (the 96² ``SpectralGPT.pth``) or band
count are resized when loaded. The official files also pickle their training arguments, hence
``--trust-checkpoint``.
"""
from functools import partial

from mmrsfm.models.converters import convert_spectralgpt
from mmrsfm.models.converters.cli import converter_parser, run_conversion


def main() -> None:
    parser = converter_parser(__doc__)
    parser.add_argument('--with-decoder', action='store_true',
                        help='keep the MAE decoder: a SpectralMAE state dict (encoder under backbone.)')
    args = parser.parse_args()
    run_conversion(partial(convert_spectralgpt, with_decoder=args.with_decoder), args.src, args.dst,
                   args.trust_checkpoint)


if __name__ == '__main__':
    main()
