"""FLOPs and parameters of a config's model on real inputs from its test set.

``python tools/analysis_tools/get_flops.py CONFIG [--num-images 1]``: images go through the config's
test pipeline and data preprocessor, so the count is for the size the model really sees.
"""
import argparse

import numpy as np
import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import DictAction
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner
from torch import nn

import mmrsfm  # noqa: F401
from mmrsfm.utils.preflight import check_data_roots, load_config


class TensorForward(nn.Module):
    """``model(inputs, data_samples, mode='tensor')`` with the data samples bound, so that the
    FLOP tracer sees a plain tensor input."""

    def __init__(self, model: nn.Module, data_samples) -> None:
        super().__init__()
        self.model, self.data_samples = model, data_samples

    def forward(self, inputs: torch.Tensor):
        return self.model(inputs, self.data_samples, mode='tensor')


def main() -> None:
    parser = argparse.ArgumentParser(description='Count FLOPs and parameters of a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--num-images', type=int, default=1, help='images to average over')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    args = parser.parse_args()

    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrsfm'))
    check_data_roots(cfg, ['test'])
    model = MODELS.build(cfg.model).eval()
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.update(batch_size=1, num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg)

    flops, shapes = [], []
    for i, batch in enumerate(loader):
        if i == args.num_images:
            break
        with torch.no_grad():
            data = model.data_preprocessor(batch, False)
            info = get_model_complexity_info(
                TensorForward(model, data['data_samples']), inputs=(data['inputs'], ),
                show_table=False, show_arch=False)
        flops.append(info['flops'])
        shapes.append(tuple(data['inputs'].shape[1:]))
    params = sum(p.numel() for p in model.parameters())
    print(f'config: {args.config}\ninput shapes (C, H, W): {sorted(set(shapes))}\n'
          f'FLOPs: {np.mean(flops) / 1e9:.3f} G (mean of {len(flops)} image(s))\n'
          f'params: {params / 1e6:.3f} M')


if __name__ == '__main__':
    main()
