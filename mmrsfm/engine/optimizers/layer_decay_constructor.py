"""Layer-wise learning-rate decay for any model whose backbone implements ``get_layer_depth``."""
from typing import Dict, List, Optional, Tuple

from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from mmrsfm.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``lr = base_lr * decay_rate ** (num_layers - 1 - layer_id)`` for backbone parameters.

    Works unchanged on mmdet / mmseg / mmrotate models and mmrsfm pretrainers: the depth of a
    parameter under ``backbone.`` comes from ``model.backbone.get_layer_depth(name, 'backbone.')``
    (no dispatch on class names); parameters outside the backbone (necks, heads, decoders) keep the
    base lr. 1-D parameters (norms, biases, layer scales) and names matching ``no_decay_names`` get no
    weight decay.

    ``paramwise_cfg`` keys:
        decay_rate (float): Per-layer lr factor. Required.
        no_decay_names (list[str]): Substrings of parameter names without weight decay. Defaults to
            ``['freq_embed', 'heat_capacity', 'pos_embed', 'cls_token']``.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None) -> None:
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        if 'decay_rate' not in self.paramwise_cfg:  # checked here: an empty cfg skips add_params
            raise KeyError("LayerDecayOptimWrapperConstructor needs paramwise_cfg=dict(decay_rate=...), "
                           'e.g. 0.9 for ViT-B, 0.75-0.85 for deeper models')

    def add_params(self, params: List[dict], module: nn.Module, **kwargs) -> None:
        cfg = self.paramwise_cfg
        rate = float(cfg['decay_rate'])
        no_decay_names = cfg.get('no_decay_names', ['freq_embed', 'heat_capacity', 'pos_embed', 'cls_token'])
        backbone = getattr(module, 'backbone', None)
        if backbone is None or not hasattr(backbone, 'get_layer_depth'):
            raise TypeError(f'{type(module).__name__}.backbone must implement get_layer_depth(name, prefix) '
                            f'for layer-wise lr decay')
        groups: Dict[Tuple[int, bool], dict] = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            if name.startswith('backbone.'):
                layer_id, num_layers = backbone.get_layer_depth(name, 'backbone.')
                scale = rate**(num_layers - 1 - layer_id)
            else:
                layer_id, scale = -1, 1.0
            no_decay = param.ndim == 1 or any(k in name for k in no_decay_names)
            key = (layer_id, no_decay)
            if key not in groups:
                groups[key] = dict(params=[], lr=self.base_lr * scale, lr_scale=scale, param_names=[],
                                   weight_decay=0.0 if no_decay else self.base_wd)
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        params.extend(groups.values())
        print_log(f'layer-wise lr decay {rate}: {len(groups)} parameter groups, lr scales '
                  f'{min(g["lr_scale"] for g in groups.values()):.3g}..1', logger='current')
