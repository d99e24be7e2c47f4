import pytest
from mmengine.model import BaseModel
from mmengine.optim import build_optim_wrapper
from torch import nn

from mmrsfm.models import RSvHeat

ARCH = dict(embed_dims=16, depths=(1, 1, 2, 1), post_norm=True, layer_scale=1e-5, spatial_correction=True)


class Detector(BaseModel):
    """The shape of an mmdet/mmseg model: ``backbone`` plus a head outside it."""

    def __init__(self):
        super().__init__()
        self.backbone = RSvHeat(ARCH, img_size=32)
        self.head = nn.Linear(128, 2)

    def forward(self, *args, **kwargs):
        raise NotImplementedError


def build(rate=0.5, **extra):
    cfg = dict(constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
               optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
               paramwise_cfg=dict(decay_rate=rate, **extra))
    model = Detector()
    return model, build_optim_wrapper(model, cfg)


def _group_of(wrapper, name):
    return next(g for g in wrapper.optimizer.param_groups if name in g['param_names'])


def test_first_and_last_layers_get_the_expected_lr():
    model, wrapper = build(0.5)
    n = sum(ARCH['depths']) + 2  # stem 0, blocks 1..5, out-norms 6
    stem = _group_of(wrapper, 'backbone.patch_embed.conv1.weight')
    assert stem['lr'] == pytest.approx(1e-3 * 0.5**(n - 1)) and stem['weight_decay'] == 0.05
    last_block = _group_of(wrapper, 'backbone.layers.3.0.op.linear.weight')
    assert last_block['lr'] == pytest.approx(1e-3 * 0.5)
    assert _group_of(wrapper, 'head.weight')['lr'] == pytest.approx(1e-3)
    assert _group_of(wrapper, 'backbone.layers.0.0.norm1.weight')['weight_decay'] == 0.0
    assert _group_of(wrapper, 'backbone.freq_embed.2')['weight_decay'] == 0.0
    n_params = sum(len(g['params']) for g in wrapper.optimizer.param_groups)
    assert n_params == sum(1 for p in model.parameters() if p.requires_grad)


def test_missing_rate_is_a_clear_error():
    with pytest.raises(KeyError, match=r'paramwise_cfg=dict\(decay_rate=...\)'):
        build_optim_wrapper(Detector(), dict(constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
                                             optimizer=dict(type='AdamW', lr=1e-3), paramwise_cfg=dict()))
