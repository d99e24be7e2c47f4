"""ScalableViT and its layers: parameter counts on meta, shapes, gradients, checkpointing, window vs
global attention, relative and absolute position embeddings, layer depths for lr decay."""
import math

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.optim import build_optim_wrapper
from torch import nn

from mmrsfm.models.backbones.scalable_vit import ScalableViT
from mmrsfm.models.layers.attention import (Attention, decomposed_rel_pos_bias, rel_pos_lookup, resize_rel_pos,
                                            window_partition, window_unpartition)
from mmrsfm.models.layers.patch_embed import PatchEmbed
from mmrsfm.models.layers.pos_embed import resize_pos_embed, resize_pos_embed_grid, split_square_pos_embed
from mmrsfm.registry import MODELS

TINY = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64)


def build(arch=TINY, **kw) -> ScalableViT:
    torch.manual_seed(0)
    kw.setdefault('img_size', 64)
    kw.setdefault('window_size', 2)
    kw.setdefault('global_attn_indexes', (1, 3))  # the default for depth 4 would make every block global
    model = ScalableViT(arch, **kw)
    model.init_weights()
    return model


# -- architecture zoo -------------------------------------------------------------------------------


@pytest.mark.parametrize('arch, exact, reference', [
    ('86m', 85_797_120, 86e6),
    ('605m', 605_608_960, 605.26e6),
    ('1.3b', 1_305_907_840, 1.3e9),
    ('2.4b', 2_418_397_952, 2.4e9),
])
def test_arch_zoo_encoder_parameter_counts_on_meta(arch, exact, reference):
    """Within 1% of the paper's sizes; the exact value pins the table in the class docstring."""
    model = ScalableViT(arch, device='meta')
    assert all(p.device.type == 'meta' for p in model.parameters())
    n = sum(p.numel() for p in model.parameters())
    assert n == exact
    assert abs(n / reference - 1) < 0.01


def test_arch_aliases_and_custom_arch_validation():
    assert ScalableViT.arch_zoo['b'] is ScalableViT.arch_zoo['base'] is ScalableViT.arch_zoo['86m']
    with pytest.raises(ValueError, match=r"misses \['num_heads'\]"):
        ScalableViT(dict(embed_dims=32, num_layers=2, feedforward_channels=64))
    with pytest.raises(ValueError, match="arch 'huge' is not one of"):
        ScalableViT('huge')


def test_default_global_blocks_follow_vitdet():
    assert build().blocks[0].attn.window_size == 2 and build().blocks[1].attn.window_size == 0
    assert ScalableViT('base', device='meta').global_attn_indexes == (2, 5, 8, 11)
    model = ScalableViT('605m', device='meta')
    assert model.global_attn_indexes == (11, 23, 35, 47)
    assert [b.attn.window_size for b in model.blocks[10:13]] == [14, 0, 14]


def test_registry_build_and_input_bands():
    model = MODELS.build(dict(type='mmrsfm.ScalableViT', arch=TINY, in_channels=13, img_size=32))
    assert isinstance(model, ScalableViT) and model.input_bands == (13, )


def test_out_indices_are_validated_and_not_mutated():
    idx = [-1, 1]
    model = ScalableViT(TINY, out_indices=idx, device='meta')
    assert model.out_indices == (1, 3) and idx == [-1, 1]
    with pytest.raises(ValueError, match='4 is not a block of 4'):
        ScalableViT(TINY, out_indices=(4, ), device='meta')


# -- shapes and gradients --------------------------------------------------------------------------


@pytest.mark.parametrize('bands, size', [(1, (64, 64)), (3, (48, 80)), (4, (50, 70)), (13, (33, 17))])
def test_output_shapes_any_bands_and_size(bands, size):
    model = build(in_channels=bands, out_indices=(1, -1), use_rel_pos=True).eval()
    with torch.no_grad():
        outs = model(torch.randn(2, bands, *size))
    grid = (math.ceil(size[0] / 16), math.ceil(size[1] / 16))
    assert len(outs) == 2 and all(o.shape == (2, 32, *grid) for o in outs)
    assert all(torch.isfinite(o).all() for o in outs)


def test_wrong_band_count_is_a_clear_error():
    with pytest.raises(ValueError, match=r'expects \(B, 4, H, W\)'):
        build(in_channels=4)(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match='not a multiple of patch size'):
        PatchEmbed(3, 8, 16, pad=False)(torch.randn(1, 3, 40, 32))


def test_every_parameter_gets_a_gradient():
    model = build(out_indices=(1, 3), use_rel_pos=True, layer_scale_init_value=0.1, drop_path_rate=0.1).train()
    outs = model(torch.randn(2, 3, 50, 70))  # non-divisible: padded windows
    sum(o.square().mean() for o in outs).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_checkpointing_gives_same_outputs_and_grads():
    x = torch.randn(2, 3, 48, 80)
    results = []
    for with_cp in (False, True):
        model = build(with_cp=with_cp, out_indices=(0, 3), use_rel_pos=True, drop_path_rate=0.2).train()
        torch.manual_seed(1)  # same drop-path masks; non-reentrant checkpoint replays the RNG state
        outs = model(x)
        sum(o.sum() for o in outs).backward()
        results.append((outs, {n: p.grad for n, p in model.named_parameters()}))
    (out_a, grad_a), (out_b, grad_b) = results
    for a, b in zip(out_a, out_b):
        torch.testing.assert_close(a, b)
    for name in grad_a:
        torch.testing.assert_close(grad_a[name], grad_b[name], msg=name)


def test_frozen_stages():
    model = build(frozen_stages=2).train()
    assert not model.pos_embed.requires_grad
    assert not any(p.requires_grad for p in model.patch_embed.parameters())
    assert not any(p.requires_grad for b in model.blocks[:2] for p in b.parameters())
    assert all(p.requires_grad for b in model.blocks[2:] for p in b.parameters())
    assert not model.blocks[1].training and model.blocks[2].training


# -- window vs global attention -------------------------------------------------------------------


def test_window_partition_roundtrip_with_padding():
    x = torch.randn(2, 5, 7, 3)
    windows, padded = window_partition(x, 4)
    assert windows.shape == (2 * 2 * 2, 4, 4, 3) and padded == (8, 8)
    torch.testing.assert_close(window_unpartition(windows, 4, padded, (5, 7)), x, rtol=0, atol=0)


@pytest.mark.parametrize('grid, use_rel_pos', [((5, 7), False), ((6, 6), True)])
def test_window_covering_the_grid_equals_global_attention(grid, use_rel_pos):
    torch.manual_seed(0)
    window = max(grid) + 2 if not use_rel_pos else grid[0]  # 5x7 in a padded 9x9 window; 6x6 exactly
    windowed = Attention(16, 2, window_size=window, use_rel_pos=use_rel_pos)
    global_ = Attention(16, 2, window_size=0, use_rel_pos=use_rel_pos, rel_pos_size=grid)
    if use_rel_pos:
        nn.init.normal_(windowed.rel_pos_h)
        nn.init.normal_(windowed.rel_pos_w)
    global_.load_state_dict(windowed.state_dict())
    x = torch.randn(2, *grid, 16)
    torch.testing.assert_close(windowed(x), global_(x))
    small = Attention(16, 2, window_size=2, use_rel_pos=use_rel_pos)
    shared = {k: v for k, v in windowed.state_dict().items() if not k.startswith('rel_pos')}
    missing = small.load_state_dict(shared, strict=False).missing_keys  # 2x2 windows: own rel-pos tables
    assert set(missing) == ({'rel_pos_h', 'rel_pos_w'} if use_rel_pos else set())
    assert (small(x) - global_(x)).abs().max() > 1e-3


def test_backbone_windowed_equals_global_when_window_covers_grid():
    x = torch.randn(1, 3, 64, 48)  # 4 x 3 tokens
    ref = build(window_size=0).eval()
    covering, small = build(window_size=4).eval(), build(window_size=2).eval()
    covering.load_state_dict(ref.state_dict())
    small.load_state_dict(ref.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(covering(x)[0], ref(x)[0])
        assert (small(x)[0] - ref(x)[0]).abs().max() > 1e-3


# -- position embeddings --------------------------------------------------------------------------


def test_decomposed_rel_pos_bias_matches_definition():
    torch.manual_seed(0)
    h, w, c = 3, 4, 5
    q = torch.randn(2, 2, h * w, c)
    table_h, table_w = torch.randn(2 * h - 1, c), torch.randn(2 * w - 1, c)
    bias = decomposed_rel_pos_bias(q, table_h, table_w, (h, w))
    ref = torch.empty_like(bias)
    for i in range(h * w):
        for j in range(h * w):
            (qi, qj), (ki, kj) = divmod(i, w), divmod(j, w)
            ref[..., i, j] = q[..., i, :] @ (table_h[qi - ki + h - 1] + table_w[qj - kj + w - 1])
    torch.testing.assert_close(bias, ref)
    assert rel_pos_lookup(table_h, 5).shape == (5, 5, c)  # resampled table for another grid
    assert resize_rel_pos(table_h, 2 * h - 1) is table_h


def test_pos_embed_resize_functions():
    grid = torch.randn(1, 4, 6, 8)
    assert resize_pos_embed_grid(grid, (4, 6)) is grid
    assert resize_pos_embed_grid(grid.half(), (8, 3)).shape == (1, 8, 3, 8)
    flat = torch.cat([torch.randn(1, 1, 8), grid.flatten(1, 2)], 1)  # cls + 4x6
    out = resize_pos_embed(flat, (4, 6), (2, 5), num_extra_tokens=1)
    assert out.shape == (1, 1 + 10, 8) and torch.equal(out[:, 0], flat[:, 0])
    extra, g = split_square_pos_embed(torch.randn(1, 1 + 9, 8))
    assert extra.shape == (1, 1, 8) and g.shape == (1, 3, 3, 8)
    with pytest.raises(ValueError, match='cannot infer a square grid'):
        split_square_pos_embed(torch.randn(1, 12, 8))


def test_checkpoint_at_224_loads_strictly_into_512_model():
    src = build(img_size=224, use_rel_pos=True)
    state = src.state_dict()
    dst = build(img_size=512, use_rel_pos=True)
    dst.load_state_dict(state, strict=True)
    assert dst.pos_embed.shape == (1, 32, 32, 32)
    torch.testing.assert_close(dst.pos_embed.data, resize_pos_embed_grid(state['pos_embed'], (32, 32)))
    g = src.global_attn_indexes[0]
    assert state[f'blocks.{g}.attn.rel_pos_h'].shape[0] == 27 and dst.blocks[g].attn.rel_pos_h.shape[0] == 63
    # Under a prefix (a detector's ``backbone.``) and from the flat MAE layout with a cls token.
    wrapper = nn.Module()
    wrapper.backbone = build(img_size=512, use_rel_pos=True)
    flat = {f'backbone.{k}': v for k, v in state.items()}
    flat['backbone.pos_embed'] = torch.cat([torch.zeros(1, 1, 32), state['pos_embed'].flatten(1, 2)], 1)
    wrapper.load_state_dict(flat, strict=True)
    torch.testing.assert_close(wrapper.backbone.pos_embed.data, dst.pos_embed.data)


def test_runtime_pos_embed_resize_equals_load_time_resize():
    x = torch.randn(1, 3, 128, 96)
    small = build(img_size=64, use_rel_pos=True).eval()
    large = build(img_size=(128, 96), use_rel_pos=True).eval()
    large.load_state_dict(small.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(small(x)[0], large(x)[0])


# -- layer-wise lr decay ------------------------------------------------------------------------


class Detector(BaseModel):
    """The shape of an mmdet/mmseg model: ``backbone`` plus a head outside it."""

    def __init__(self):
        super().__init__()
        self.backbone = build()
        self.head = nn.Linear(32, 2)

    def forward(self, *args, **kwargs):
        raise NotImplementedError


def test_get_layer_depth_and_layer_decay_constructor():
    model = Detector()
    depth = model.backbone.get_layer_depth
    assert depth('backbone.patch_embed.proj.weight', 'backbone.') == (0, 6)
    assert depth('backbone.pos_embed', 'backbone.') == (0, 6)
    assert depth('backbone.blocks.0.attn.qkv.weight', 'backbone.') == (1, 6)
    assert depth('backbone.blocks.3.mlp.fc2.bias', 'backbone.') == (4, 6)
    assert depth('backbone.norm.weight', 'backbone.') == (5, 6)
    assert depth('head.weight', 'backbone.') == (5, 6)
    wrapper = build_optim_wrapper(model, dict(constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
                                              optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
                                              paramwise_cfg=dict(decay_rate=0.5)))

    def group(name):
        return next(g for g in wrapper.optimizer.param_groups if name in g['param_names'])

    assert group('backbone.patch_embed.proj.weight')['lr'] == pytest.approx(1e-3 * 0.5**5)
    assert group('backbone.pos_embed')['lr'] == pytest.approx(1e-3 * 0.5**5)
    assert group('backbone.pos_embed')['weight_decay'] == 0.0
    assert group('backbone.blocks.3.attn.qkv.weight')['lr'] == pytest.approx(1e-3 * 0.5)
    assert group('backbone.norm.weight')['lr'] == pytest.approx(1e-3)
    assert group('head.weight')['lr'] == pytest.approx(1e-3)
    assert sum(len(g['params']) for g in wrapper.optimizer.param_groups) == len(list(model.parameters()))
