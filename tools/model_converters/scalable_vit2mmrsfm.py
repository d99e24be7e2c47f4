"""Convert MAE / timm ViT checkpoints (or mmrsfm MAEPretrainer checkpoints) for mmrsfm's ScalableViT.

    python tools/model_converters/scalable_vit2mmrsfm.py mae_pretrain_vit_base.pth vit-b_mmrsfm.pth --img-size 512
    python tools/model_converters/scalable_vit2mmrsfm.py work_dirs/mae/iter_400.pth vit_backbone.pth
    python tools/model_converters/scalable_vit2mmrsfm.py work_dirs/mae_zero3/iter_400.pth/ vit_backbone.pth  # DeepSpeed dir

The cls-token position of ``pos_embed`` is dropped, the grid resized to ``--img-size / --patch-size``
(default: kept), and the decoder / heads / tokens dropped (listed). The output holds
``{'state_dict': ...}`` with backbone keys: ``backbone=dict(type='mmrsfm.ScalableViT', ...,
init_cfg=dict(type='Pretrained', checkpoint=OUT))``. A DeepSpeed (ZeRO-2/3) checkpoint directory is
read through DeepSpeed's ``zero_to_fp32`` (the fp32 master weights; needs deepspeed installed).
"""
from functools import partial

from mmrsfm.models.converters import convert_scalable_vit
from mmrsfm.models.converters.cli import converter_parser, run_conversion


def main() -> None:
    parser = converter_parser(__doc__, src_help='MAE / timm / mmrsfm checkpoint, or a DeepSpeed checkpoint directory')
    parser.add_argument('--img-size', type=int, nargs='+', help='target image size (H [W]) to resize pos_embed for')
    parser.add_argument('--patch-size', type=int, default=16, help='patch size of the model (default 16)')
    parser.add_argument('--src-grid', type=int, nargs=2, help='source token grid H W (only for non-square grids)')
    args = parser.parse_args()
    grid = None
    if args.img_size:
        h, w = (args.img_size * 2)[:2]
        grid = (-(-h // args.patch_size), -(-w // args.patch_size))
    # mmengine checkpoints load weights_only too: `import mmrsfm` allow-lists their few non-tensor types.
    state_dict = run_conversion(partial(convert_scalable_vit, grid_size=grid, src_grid=args.src_grid), args.src,
                                args.dst, args.trust_checkpoint)
    print(f'pos_embed grid {tuple(state_dict["pos_embed"].shape[1:3])}')


if __name__ == '__main__':
    main()
