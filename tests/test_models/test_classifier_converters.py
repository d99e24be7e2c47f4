"""Fine-tuned official classifiers -> whole mmpretrain ``ImageClassifier``s (``convert_*(ckpt,
classifier=True)``), checked logit for logit against independent forwards of the official maths: the
RS-vHeat / vHeat ``classifier = Sequential(LayerNorm2d, AdaptiveAvgPool2d(1), Flatten, Linear)`` on the
last stage, and SpectralGPT's ``models_vit_tensor.VisionTransformer`` (joint ``pos_embed``, mean of
``x[:, 1:]``, ``norm`` after pooling, ``head``). The backbone references are those of the converter
tests."""
import os.path as osp
import runpy
import sys

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from conftest import REPO
from mmrsfm.models import SpectralGPT
from mmrsfm.models.backbones.spectralgpt import sep_pos_embed
from mmrsfm.models.converters import convert_rs_vheat, convert_spectralgpt
from test_rs_vheat_convert import DIM as VHEAT_DIM
from test_rs_vheat_convert import arch as vheat_arch
from test_rs_vheat_convert import official_forward as vheat_forward
from test_rs_vheat_convert import official_state as vheat_state
from test_spectralgpt_convert import DEPTH, DIM, HEADS, TINY, official_state, ref_block, ref_patch_tokens

CLASSES = 5


@pytest.fixture(autouse=True)
def mmpretrain_scope():
    init_default_scope('mmpretrain')


# ---- RS-vHeat / vHeat ------------------------------------------------------------------------------
def vheat_classifier(rs: bool, img_size: int = 64) -> torch.nn.Module:
    c = VHEAT_DIM * 8
    return MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='mmrsfm.RSvHeat', arch=vheat_arch(rs=rs), out_indices=(3, ), img_size=img_size),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=CLASSES, in_channels=c))).eval()


def vheat_logits(sd: dict, x: torch.Tensor, rs: bool, stem: str = '') -> torch.Tensor:
    """Official ``forward``: the last stage through ``classifier`` (LayerNorm2d eps 1e-5, pool, Linear)."""
    y = vheat_forward(sd, x, rs=rs, stem=stem)[-1]
    y = F.layer_norm(y.permute(0, 2, 3, 1), (y.shape[1], ), sd['classifier.0.weight'], sd['classifier.0.bias'],
                     eps=1e-5)
    return F.linear(y.mean((1, 2)), sd['classifier.3.weight'], sd['classifier.3.bias'])


@pytest.mark.parametrize('layout', ['vheat', 'rs_vheat', 'rs_vheat_wrapped'])
def test_vheat_classifier_matches_official_logits(layout):
    rs = layout != 'vheat'
    sd = vheat_state(torch.Generator().manual_seed(0), rs=rs, classes=CLASSES, stems=('_opt', ) if rs else ('', ))
    if layout == 'rs_vheat_wrapped':  # Vheat_Classification: encoder (with its own unused classifier) + head
        ckpt = {'model': {**{'encoder.' + k: v for k, v in sd.items()},
                          **{k: v for k, v in sd.items() if k.startswith('classifier.')}}}
    else:  # the model itself (vHeat release; RS_vHeat as main.py builds it)
        ckpt = {'model': sd}
    converted, dropped = convert_rs_vheat(ckpt, classifier=True)
    model = vheat_classifier(rs)
    model.load_state_dict(converted)  # strict: the whole ImageClassifier
    assert model.backbone.outnorm3.eps == 1e-5 and model.backbone.outnorm3.normalized_shape == (VHEAT_DIM * 8, )
    if layout == 'rs_vheat_wrapped':
        assert dropped == sorted('encoder.' + k for k in sd if k.startswith('classifier.'))
    else:
        assert dropped == []
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ours = model(x, mode='tensor')
    torch.testing.assert_close(ours, vheat_logits(sd, x, rs, '_opt' if rs else ''), atol=1e-5, rtol=1e-4)


def test_vheat_classifier_conversion_needs_a_classifier_head():
    sd = vheat_state(torch.Generator().manual_seed(1), rs=True, stems=('_opt', '_sar'))
    pretraining = {'model': {'encoder.' + k: v for k, v in sd.items()}}  # its encoder.classifier is unused
    with pytest.raises(KeyError, match='no trained classifier head.*pretraining.*without --classifier'):
        convert_rs_vheat(pretraining, classifier=True)
    detector = {'state_dict': {'backbone.' + k: v for k, v in sd.items()}}
    with pytest.raises(KeyError, match='no trained classifier head.*detection'):
        convert_rs_vheat(detector, classifier=True)
    no_head = {k: v for k, v in vheat_state(torch.Generator().manual_seed(1)).items()
               if not k.startswith('classifier.')}
    with pytest.raises(KeyError, match='no trained classifier head'):
        convert_rs_vheat({'model': no_head}, classifier=True)
    # The SAR stem of a bare RS_vHeat classifier: the other stem is dropped and listed.
    converted, dropped = convert_rs_vheat({'model': sd}, modality='sar', classifier=True)
    assert converted['backbone.patch_embed.conv1.weight'].shape[1] == 1
    assert dropped and all(k.startswith('patch_embed_opt.') for k in dropped)


# ---- SpectralGPT -----------------------------------------------------------------------------------
def spectralgpt_classifier_state(g: torch.Generator, grid: int = 4, groups: int = 4) -> dict:
    """Official ``models_vit_tensor.VisionTransformer`` keys: the encoder with one joint ``pos_embed``."""
    sd = {k: v for k, v in official_state(g, grid, groups).items()
          if not k.startswith(('decoder', 'mask_token', 'pos_embed_'))}
    sd.update({'pos_embed': torch.randn(1, groups * grid * grid, DIM, generator=g) * 0.2,
               'head.weight': torch.randn(CLASSES, DIM, generator=g) * 0.2,
               'head.bias': torch.randn(CLASSES, generator=g) * 0.2})
    return sd


def spectralgpt_logits(sd: dict, imgs: torch.Tensor, skip_first: bool = True) -> torch.Tensor:
    """Official forward: tokens + pos_embed, blocks, ``x[:, 1:].mean(1)``, ``norm``, ``head``."""
    x = ref_patch_tokens(imgs, sd)
    n, t, hw, c = x.shape
    x = x.reshape(n, t * hw, c) + sd['pos_embed']
    for i in range(DEPTH):
        x = ref_block(x, sd, f'blocks.{i}.', HEADS)
    x = (x[:, 1:] if skip_first else x).mean(1)
    x = F.layer_norm(x, (c, ), sd['norm.weight'], sd['norm.bias'], eps=1e-6)
    return F.linear(x, sd['head.weight'], sd['head.bias'])


def spectralgpt_classifier(img_size: int = 32, **backbone) -> torch.nn.Module:
    backbone = dict(type='mmrsfm.SpectralGPT', arch=TINY, in_channels=12, img_size=img_size, out_type='avg_token',
                    pos_embed_layout='joint', avg_skip_first_token=True, **backbone)
    return MODELS.build(dict(type='ImageClassifier', backbone=backbone, neck=None,
                             head=dict(type='LinearClsHead', num_classes=CLASSES, in_channels=DIM))).eval()


def test_spectralgpt_classifier_matches_official_logits():
    sd = spectralgpt_classifier_state(torch.Generator().manual_seed(0))
    ckpt = {'model': {**sd, 'decoder_norm.weight': torch.ones(8)}}  # a stray MAE key: dropped, listed
    converted, dropped = convert_spectralgpt(ckpt, classifier=True)
    assert dropped == ['decoder_norm.weight']
    assert set(converted) == {'backbone.' + k for k in sd if not k.startswith('head.')} | {'head.fc.weight',
                                                                                           'head.fc.bias'}
    model = spectralgpt_classifier()
    model.load_state_dict(converted)  # strict
    assert not hasattr(model.backbone, 'spectral_fuse') and not hasattr(model.backbone, 'pyramid')
    assert model.backbone.norm.weight.requires_grad
    imgs = torch.randn(2, 12, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(imgs, mode='tensor'), spectralgpt_logits(sd, imgs), atol=1e-5, rtol=1e-4)
        # Our default pools every token: different logits, those of the all-token mean.
        model.backbone.avg_skip_first_token = False
        all_tokens = model(imgs, mode='tensor')
    torch.testing.assert_close(all_tokens, spectralgpt_logits(sd, imgs, skip_first=False), atol=1e-5, rtol=1e-4)
    assert not torch.allclose(all_tokens, spectralgpt_logits(sd, imgs), atol=1e-4)


def test_joint_pos_embed_resizes_like_the_separate_parts():
    """At another size / band count the joint embedding is resized per group (bicubic) and across groups
    (linear): for a joint embedding that is the sum of separate parts, what the separate layout gives."""
    g = torch.Generator().manual_seed(1)
    spatial, temporal = torch.randn(1, 16, DIM, generator=g), torch.randn(1, 4, DIM, generator=g)
    sep = SpectralGPT(TINY, img_size=32, out_type='avg_token').eval()
    joint = SpectralGPT(TINY, img_size=32, out_type='avg_token', pos_embed_layout='joint').eval()
    sep.pos_embed_spatial.data, sep.pos_embed_temporal.data = spatial, temporal
    joint.load_state_dict({**sep.state_dict()})  # separate parts summed into the joint pos_embed on load
    torch.testing.assert_close(joint.pos_embed, sep_pos_embed(spatial, (4, 4), temporal, (4, 4, 4)))
    for size in ((4, 4, 4), (2, 6, 5)):
        torch.testing.assert_close(joint.get_pos_embed(size), sep.get_pos_embed(size), atol=1e-5, rtol=1e-5)
    imgs = torch.randn(1, 6, 48, 40)  # 2 groups, 6x5 grid
    with torch.no_grad():
        torch.testing.assert_close(joint(imgs)[0], sep(imgs)[0], atol=1e-5, rtol=1e-4)
    # A checkpoint pos_embed of another square grid (same groups) is resized on load; others raise.
    big = SpectralGPT(TINY, img_size=48, out_type='avg_token', pos_embed_layout='joint')
    big.load_state_dict(joint.state_dict())
    torch.testing.assert_close(big.pos_embed, joint.get_pos_embed((4, 6, 6)))
    bad = {**joint.state_dict(), 'pos_embed': torch.zeros(1, 3 * 16, DIM)}
    with pytest.raises(ValueError, match='not 4 spectral groups x a square grid.*in_channels and img_size'):
        big.load_state_dict(bad)
    with pytest.raises(KeyError, match="pos_embed_layout='joint'"):
        sep.load_state_dict({**joint.state_dict()})


def test_spectralgpt_options_and_layer_depth():
    model = SpectralGPT(TINY, img_size=32, out_type='avg_token', pos_embed_layout='joint')
    assert model.out_channels == (DIM, )
    assert model.get_layer_depth('backbone.pos_embed', 'backbone.') == (0, DEPTH + 2)
    assert model.get_layer_depth('backbone.norm.weight', 'backbone.') == (DEPTH + 1, DEPTH + 2)
    with pytest.raises(ValueError, match='pos_embed_layout'):
        SpectralGPT(TINY, pos_embed_layout='flat')
    with pytest.raises(ValueError, match='out_indices'):
        SpectralGPT(TINY, out_type='avg_token', out_indices=(0, ))


def test_spectralgpt_classifier_conversion_errors():
    sd = official_state(torch.Generator().manual_seed(2))  # pretraining: no head
    with pytest.raises(KeyError, match='no classifier head.*without --classifier'):
        convert_spectralgpt(sd, classifier=True)
    with pytest.raises(ValueError, match='pick one'):
        convert_spectralgpt(sd, classifier=True, with_decoder=True)
    cls = spectralgpt_classifier_state(torch.Generator().manual_seed(2))
    with pytest.raises(ValueError, match='sep_pos_embed=False.*--classifier'):
        convert_spectralgpt(cls)


@pytest.mark.parametrize('family', ['spectralgpt', 'rs_vheat'])
def test_cli_classifier_flag(family, tmp_path, monkeypatch):
    src, dst = str(tmp_path / 'official.pth'), str(tmp_path / 'out.pth')
    if family == 'spectralgpt':
        ckpt, model = spectralgpt_classifier_state(torch.Generator().manual_seed(3)), spectralgpt_classifier()
    else:
        ckpt, model = {'model': vheat_state(torch.Generator().manual_seed(3), classes=CLASSES)}, vheat_classifier(False)
    torch.save(ckpt, src)
    tool = osp.join(REPO, f'tools/model_converters/{family}2mmrsfm.py')
    monkeypatch.setattr(sys, 'argv', [tool, src, dst, '--classifier'])
    runpy.run_path(tool, run_name='__main__')
    model.load_state_dict(torch.load(dst, weights_only=True)['state_dict'])
