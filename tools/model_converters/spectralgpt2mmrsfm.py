"""Convert official SpectralGPT checkpoints (``SpectralGPT.pth``, ``SpectralGPT+.pth``) for mmrsfm.

    python tools/model_converters/spectralgpt2mmrsfm.py SpectralGPT+.pth spectralgpt+_backbone.pth
    python tools/model_converters/spectralgpt2mmrsfm.py SpectralGPT.pth spectralgpt_mae.pth --with-decoder

Without ``--with-decoder`` the output holds ``{'state_dict': ...}`` with SpectralGPT backbone keys;
use it as ``backbone=dict(type='mmrsfm.SpectralGPT', init_cfg=dict(type='Pretrained', checkpoint=OUT))``.
With ``--with-decoder`` it holds a whole SpectralMAE (encoder under ``backbone.``, official decoder),
for continued pretraining with ``load_from=OUT``. Position embeddings of another image size (the 96²
``SpectralGPT.pth``) or band count are resized when loaded.
"""
import argparse

from mmrsfm.models.utils import convert_spectralgpt, load_checkpoint_file, save_converted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--with-decoder', action='store_true',
                        help='keep the MAE decoder: a SpectralMAE state dict (encoder under backbone.)')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='load with weights_only=False (official files also pickle the training args); '
                             'only for files from a source you trust')
    args = parser.parse_args()
    ckpt = load_checkpoint_file(args.src, args.trust_checkpoint)
    state_dict = convert_spectralgpt(ckpt, with_decoder=args.with_decoder)
    save_converted(state_dict, args.src, args.dst)


if __name__ == '__main__':
    main()
