"""Convert official SpectralGPT checkpoints (``SpectralGPT.pth``, ``SpectralGPT+.pth``) for mmrsfm.

    python tools/model_converters/spectralgpt2mmrsfm.py SpectralGPT+.pth spectralgpt+_base.pth --trust-checkpoint
    python tools/model_converters/spectralgpt2mmrsfm.py SpectralGPT.pth mae.pth --with-decoder --trust-checkpoint
    python tools/model_converters/spectralgpt2mmrsfm.py finetuned_eurosat.pth cls.pth --classifier --trust-checkpoint

Without ``--with-decoder`` the output holds ``{'state_dict': ...}`` with SpectralGPT backbone keys (the
decoder and any task head are dropped and listed); use it as ``backbone=dict(type='mmrsfm.SpectralGPT',
init_cfg=dict(type='Pretrained', checkpoint=OUT))``. With ``--with-decoder`` it holds a whole
SpectralMAE (encoder under ``backbone.``, official decoder), for continued pretraining with
``load_from=OUT``. With ``--classifier`` (a fine-tuned ``models_vit_tensor`` classifier) it holds a whole
mmpretrain ImageClassifier (``backbone.*``, ``head.fc.*``) for ``load_from=OUT``, with
``backbone=dict(type='mmrsfm.SpectralGPT', out_type='avg_token', pos_embed_layout='joint',
avg_skip_first_token=True)``, ``neck=None`` and a ``LinearClsHead``. Position embeddings of another
image size (the 96² ``SpectralGPT.pth``) or band count are resized when loaded. The official files also pickle their training arguments, hence
``--trust-checkpoint``.
"""
from functools import partial

from mmrsfm.models.converters import convert_spectralgpt
from mmrsfm.models.converters.cli import converter_parser, run_conversion


def main() -> None:
    parser = converter_parser(__doc__)
    parser.add_argument('--with-decoder', action='store_true',
                        help='keep the MAE decoder: a SpectralMAE state dict (encoder under backbone.)')
    parser.add_argument('--classifier', action='store_true',
                        help='a fine-tuned classifier: a whole ImageClassifier state dict (backbone.*, head.fc.*)')
    args = parser.parse_args()
    run_conversion(partial(convert_spectralgpt, with_decoder=args.with_decoder, classifier=args.classifier),
                   args.src, args.dst, args.trust_checkpoint)


if __name__ == '__main__':
    main()
