"""SimpleFPN: strides/channels of the pyramid, norms, gradients, and use with ScalableViT + UPerHead."""
import pytest
import torch

from mmrsfm.models.backbones.scalable_vit import ScalableViT
from mmrsfm.models.necks.simple_fpn import SimpleFPN
from mmrsfm.registry import MODELS


@pytest.mark.parametrize('hw, expected', [
    ((8, 10), [(32, 40), (16, 20), (8, 10), (4, 5), (2, 3)]),
    ((7, 9), [(28, 36), (14, 18), (7, 9), (4, 5), (2, 3)]),  # odd: the pools keep covering the image
])
def test_output_strides_and_channels(hw, expected):
    neck = SimpleFPN(32, 16, num_outs=5)
    outs = neck((torch.randn(2, 32, *hw), ))
    assert [tuple(o.shape[-2:]) for o in outs] == expected
    assert all(o.shape[:2] == (2, 16) for o in outs)


def test_scale_subset_norm_cfg_and_errors():
    neck = MODELS.build(dict(type='mmrsfm.SimpleFPN', in_channels=32, out_channels=8, scale_factors=(2.0, 1.0),
                             norm_cfg=dict(type='GN', num_groups=4)))
    assert isinstance(neck.stages[0][2], torch.nn.GroupNorm)
    assert [o.shape for o in neck(torch.randn(1, 32, 4, 4))] == [(1, 8, 8, 8), (1, 8, 4, 4)]
    with pytest.raises(ValueError, match='scale_factors'):
        SimpleFPN(32, 8, scale_factors=(3.0, ))
    with pytest.raises(ValueError, match='got a map with 16 channels'):
        SimpleFPN(32, 8)((torch.randn(1, 16, 4, 4), ))


def test_every_parameter_gets_a_gradient():
    neck = SimpleFPN(32, 8)
    sum(o.square().mean() for o in neck((torch.randn(2, 32, 5, 6), ))).backward()
    for name, p in neck.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_vit_simple_fpn_uperhead():
    """Backbone -> neck -> mmseg's UPerHead, as a segmentation config wires them."""
    pytest.importorskip('mmseg')
    from mmseg.models.decode_heads import UPerHead
    backbone = ScalableViT(dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
                           in_channels=4, img_size=64, window_size=2)
    neck = SimpleFPN(32, 16)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmseg'):  # its loss is built by name; earlier tests may set a scope
        head = UPerHead(in_channels=[16] * 4, in_index=[0, 1, 2, 3], channels=16, num_classes=3,
                        norm_cfg=dict(type='BN', requires_grad=True))
    feats = neck(backbone(torch.randn(2, 4, 96, 64)))
    assert [f.shape[-2:] for f in feats] == [(24, 16), (12, 8), (6, 4), (3, 2)]
    assert head(feats).shape == (2, 3, 24, 16)


def test_simple_fpn_feeds_mmdet_rpn_head():
    """Five levels (strides 4..64) into mmdet's RPNHead, as a ViTDet-style detector config."""
    pytest.importorskip('mmdet')
    from mmdet.models.dense_heads import RPNHead
    from mmengine.registry import DefaultScope
    neck = SimpleFPN(32, 16, num_outs=5)
    with DefaultScope.overwrite_default_scope('mmdet'):  # the head builds its coder/anchors in mmdet's scope
        head = RPNHead(in_channels=16, feat_channels=16,
                       anchor_generator=dict(type='AnchorGenerator', scales=[8], ratios=[0.5, 1.0, 2.0],
                                             strides=[4, 8, 16, 32, 64]))
    scores, deltas = head(neck((torch.randn(1, 32, 6, 5), )))
    assert [s.shape for s in scores] == [(1, 3, 24, 20), (1, 3, 12, 10), (1, 3, 6, 5), (1, 3, 3, 3), (1, 3, 2, 2)]
    assert len(deltas) == 5 and deltas[0].shape == (1, 12, 24, 20)
