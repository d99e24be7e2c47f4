"""SpectralGPT backbone: sizes, band-count rule, shapes, gradients, position-embedding resizing."""
import pytest
import torch
import torch.nn.functional as F

from mmrsfm.registry import MODELS

TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
PYRAMID = dict(channels=(8, 16, 32, 32), mid_channels=(16, 16, 32, 32), norm_groups=4)


def build(**kw):
    cfg = dict(type='mmrsfm.SpectralGPT', arch=TINY, img_size=32, pyramid_cfg=PYRAMID)
    cfg.update(kw)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('arch, reference', [('base', 85.40e6), ('large', 302.78e6), ('huge', 630.26e6)])
def test_encoder_param_counts_match_official_builders(arch, reference):
    # Encoder only (no fusion layer, no pyramid), 12 bands at 128², as the official `models_mae_spectral.py` builds them.
    model = MODELS.build(dict(type='mmrsfm.SpectralGPT', arch=arch, out_type='featmap', spectral_fusion='mean',
                              device='meta'))
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - reference) / reference < 0.005, n
    assert model.pos_embed_spatial.shape[1] == 256 and model.pos_embed_temporal.shape[1] == 4


@pytest.mark.parametrize('bands, size', [(4, (64, 64)), (10, (96, 96)), (12, (128, 128)), (13, (120, 96))])
def test_pyramid_shapes_for_band_counts_and_sizes(bands, size):
    model = build(in_channels=bands)
    assert model.num_groups == -(-bands // 3) and model.input_bands == (bands, )
    with torch.no_grad():
        outs = model(torch.randn(1, bands, *size))
    h, w = size[0] // 8, size[1] // 8
    assert [tuple(o.shape) for o in outs] == [(1, c, s * h, s * w) for c, s in zip((8, 16, 32, 32), (8, 4, 2, 1))]


def test_featmap_outputs_and_non_divisible_input():
    model = build(out_type='featmap', out_indices=(0, 1), in_channels=12)
    with torch.no_grad():
        outs = model(torch.randn(2, 12, 36, 20))  # padded to 40 x 24 -> 5 x 3 tokens
    assert [tuple(o.shape) for o in outs] == [(2, 32, 5, 3)] * 2
    assert model.out_channels == (32, 32)
    with pytest.raises(ValueError, match='one block'):
        build(out_indices=(0, 1))


def test_mean_band_padding_is_the_official_segmunich_rule():
    # 10 bands + two copies of the per-pixel band mean = the 12-band cube the official code builds.
    model = build(in_channels=10)
    x = torch.randn(2, 10, 32, 32)
    padded = torch.cat([x, x.mean(1, keepdim=True), x.mean(1, keepdim=True)], 1)
    torch.testing.assert_close(model.pad_bands(x), padded)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[-1], model(padded)[-1])
    with pytest.raises(ValueError, match="band_padding='mean'"):
        build(in_channels=10, band_padding=None)(x)
    with pytest.raises(ValueError, match="spectral_fusion='mean'"):
        model(torch.randn(1, 4, 32, 32))  # 2 groups, fusion made for 4
    with torch.no_grad():  # 'mean' fusion takes any band count
        assert build(spectral_fusion='mean')(torch.randn(1, 4, 32, 32))[-1].shape == (1, 32, 4, 4)


def test_gradients_reach_every_trainable_parameter_and_checkpointing_matches():
    model = build(in_channels=13, drop_path_rate=0.0).train()
    x = torch.randn(2, 13, 32, 24)
    torch.manual_seed(1)  # the pyramid's dropout
    outs = model(x)
    sum(o.square().mean() for o in outs).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing and all(torch.isfinite(g).all() for g in grads.values())
    assert not model.norm.weight.requires_grad  # final_norm=False: unused, frozen
    model.zero_grad()
    model.with_cp = True
    torch.manual_seed(1)
    outs_cp = model(x)
    sum(o.square().mean() for o in outs_cp).backward()
    for a, b in zip(outs, outs_cp):
        torch.testing.assert_close(a, b)
    for n, p in model.named_parameters():
        if p.requires_grad:
            torch.testing.assert_close(p.grad, grads[n], rtol=1e-4, atol=1e-6)


def test_pos_embed_resized_on_load_equals_runtime_resize_and_reference_interpolation():
    small = build(img_size=32, out_type='featmap', spectral_fusion='mean')  # 4x4 grid, 4 groups
    big = build(img_size=48, in_channels=6, out_type='featmap', spectral_fusion='mean')  # 6x6 grid, 2 groups
    big.load_state_dict(small.state_dict())  # strict; both embeddings resized by the load hook
    # Independent expectation: bicubic on the (1, C, 4, 4) grid, linear along the 4 groups.
    grid = small.pos_embed_spatial.detach().reshape(1, 4, 4, 32).permute(0, 3, 1, 2)
    want_s = F.interpolate(grid, size=(6, 6), mode='bicubic', align_corners=False).permute(0, 2, 3, 1)
    torch.testing.assert_close(big.pos_embed_spatial.detach(), want_s.reshape(1, 36, 32))
    want_t = F.interpolate(small.pos_embed_temporal.detach().permute(0, 2, 1), size=2, mode='linear',
                           align_corners=False).permute(0, 2, 1)
    torch.testing.assert_close(big.pos_embed_temporal.detach(), want_t)
    # Run time: the 32²/12-band model on a 48²/6-band input resizes the same way.
    x = torch.randn(1, 6, 48, 48)
    with torch.no_grad():
        torch.testing.assert_close(small(x)[0], big(x)[0], rtol=1e-5, atol=1e-5)


def test_frozen_stages_and_layer_depth():
    model = build(frozen_stages=1).train()
    assert not model.pos_embed_spatial.requires_grad and not model.blocks[0].attn.q.weight.requires_grad
    assert model.blocks[1].attn.q.weight.requires_grad and model.spectral_fuse.weight.requires_grad
    assert model.get_layer_depth('backbone.pos_embed_temporal', 'backbone.') == (0, 4)
    assert model.get_layer_depth('backbone.blocks.1.mlp.fc1.weight', 'backbone.') == (2, 4)
    assert model.get_layer_depth('backbone.pyramid.0.0.weight', 'backbone.') == (3, 4)
    assert model.get_layer_depth('decode_head.conv_seg.weight', 'backbone.') == (3, 4)
