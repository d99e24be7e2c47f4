"""RS-vHeat / vHeat backbone: HCO exactness against scipy's DCT, shapes, gradients, re-param."""
import numpy as np
import pytest
import torch
from scipy.fft import dctn, idctn

from mmrsfm.models import RSvHeat
from mmrsfm.models.backbones.rs_vheat import HeatConduction2d
from mmrsfm.models.layers import frequency_penalty, resize_grid
from mmrsfm.models.layers import dct_matrix, heat_diffusion_2d

TINY = dict(embed_dims=16, depths=(1, 1, 2, 1), post_norm=True, layer_scale=1e-5, spatial_correction=True)


def build(arch=TINY, **kw) -> RSvHeat:
    torch.manual_seed(0)
    model = RSvHeat(arch, img_size=kw.pop('img_size', 64), **kw)
    model.init_weights()
    return model


@pytest.mark.parametrize('n', [1, 7, 16, 33])
def test_dct_matrix_is_scipy_orthonormal_dct(n):
    d = dct_matrix(n, dtype=torch.float64).numpy()
    np.testing.assert_allclose(d @ d.T, np.eye(n), atol=1e-12)
    v = np.random.default_rng(n).normal(size=n)
    np.testing.assert_allclose(d @ v, dctn(v, norm='ortho'), atol=1e-12)


@pytest.mark.parametrize('hw', [(8, 8), (7, 12), (13, 5), (1, 4)])
def test_heat_diffusion_matches_scipy_forward_and_backward(hw):
    h, w = hw
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, h, w, 3))
    decay = rng.uniform(0.1, 1, size=(h, w, 3))
    grad_out = rng.normal(size=x.shape)
    # reference: Y = IDCT2(DCT2(X) * D); the map is symmetric, so dL/dX = IDCT2(DCT2(G) * D)
    # and dL/dD = sum_b DCT2(X) * DCT2(G).
    ref = idctn(dctn(x, axes=(1, 2), norm='ortho') * decay, axes=(1, 2), norm='ortho')
    ref_gx = idctn(dctn(grad_out, axes=(1, 2), norm='ortho') * decay, axes=(1, 2), norm='ortho')
    ref_gd = (dctn(x, axes=(1, 2), norm='ortho') * dctn(grad_out, axes=(1, 2), norm='ortho')).sum(0)

    tx = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    td = torch.tensor(decay, dtype=torch.float32, requires_grad=True)
    out = heat_diffusion_2d(tx, td)
    out.backward(torch.tensor(grad_out, dtype=torch.float32))
    np.testing.assert_allclose(out.detach().numpy(), ref, atol=1e-5)
    np.testing.assert_allclose(tx.grad.numpy(), ref_gx, atol=1e-5)
    np.testing.assert_allclose(td.grad.numpy(), ref_gd, atol=1e-4)


def test_hco_matches_reference_maths():
    """The whole operator against official `vHeat.py` / `RS_vHeat.py` maths written out with scipy (float64)."""
    torch.manual_seed(0)
    c, h, w = 4, 6, 9
    op = HeatConduction2d(c, spatial_correction=True).double()
    for p in op.parameters():
        torch.nn.init.normal_(p, std=0.3)
    x = torch.randn(2, c, h, w, dtype=torch.float64)
    fve = torch.randn(h, w, c, dtype=torch.float64)
    sce = torch.randn(h, w, c, dtype=torch.float64)
    ours = op(x.permute(0, 2, 3, 1), fve, sce).permute(0, 3, 1, 2).detach().numpy()  # channels-last API

    def ln(a, norm):  # LayerNorm over the last axis
        a = (a - a.mean(-1, keepdims=True)) / np.sqrt(a.var(-1, keepdims=True) + norm.eps)
        return a * norm.weight.detach().numpy() + norm.bias.detach().numpy()

    p = {k: v.detach().numpy() for k, v in op.state_dict().items()}
    a = np.maximum(x.numpy().transpose(0, 2, 3, 1) + sce.numpy(), 0)  # (B, H, W, C)
    a = ln(a, op.norm1)
    pad = np.pad(a, ((0, 0), (1, 1), (1, 1), (0, 0)))
    dw = sum(pad[:, i:i + h, j:j + w] * p['dwconv.weight'][:, 0, i, j] for i in range(3) for j in range(3))
    a = (dw + p['dwconv.bias']) @ p['linear.weight'].T + p['linear.bias']
    phi, z = a[..., :c], a[..., c:]
    k = np.maximum(fve.numpy() @ p['to_k.0.weight'].T + p['to_k.0.bias'], 0)
    omega = (np.pi * np.arange(h) / h)[:, None]**2 + (np.pi * np.arange(w) / w)[None, :]**2
    u = idctn(dctn(phi, axes=(1, 2), norm='ortho') * np.exp(-k * omega[..., None]), axes=(1, 2), norm='ortho')
    u = ln(u, op.out_norm) * (z / (1 + np.exp(-z)))
    ref = (u @ p['out_linear.weight'].T + p['out_linear.bias']).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(ours, ref, atol=1e-10)


def test_frequency_penalty_and_resize():
    om = frequency_penalty(4, 2)
    assert om[0, 0] == 0 and om[1, 0] == pytest.approx((np.pi / 4)**2) and om[0, 1] == pytest.approx((np.pi / 2)**2)
    e = torch.randn(5, 6, 3)
    assert resize_grid(e, (5, 6)) is e and resize_grid(e, (9, 4)).shape == (9, 4, 3)


@pytest.mark.parametrize('size', [(9, 4), (16, 16), (3, 2), (1, 7)])
def test_resize_grid_is_bilinear_interpolate(size):
    # The GEMM form must equal F.interpolate (bilinear, align_corners=False) for up- and downsampling,
    # in value and gradient.
    e = torch.randn(5, 6, 3, dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.interpolate(e.permute(2, 0, 1)[None], size=size, mode='bilinear',
                                          align_corners=False)[0].permute(1, 2, 0)
    ours = resize_grid(e, size)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)
    g = torch.randn_like(ref)
    torch.testing.assert_close(torch.autograd.grad(ours, e, g)[0], torch.autograd.grad(ref, e, g)[0])


def test_bases_are_shared_non_persistent_buffers():
    model = build().eval()
    assert all(blk.op.bases is model.bases for stage in model.layers for blk in stage[:-1])
    with torch.no_grad():
        model(torch.randn(1, 3, 40, 56))
    names = dict(model.bases.named_buffers())
    assert {'dct10_float32', 'dct14_float32', 'lin10x16_float32'} <= set(names)  # stage-0 grid 10x14
    assert not any('bases' in k for k in model.state_dict())  # constants never enter a checkpoint
    model.double()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 40, 56, dtype=torch.float64))
    assert out[0].dtype == torch.float64
    assert all(b.dtype == torch.float64 for b in model.bases.buffers())


@pytest.mark.parametrize('size', [(64, 64), (64, 96), (57, 83), (33, 33)])
@pytest.mark.parametrize('bands', [1, 3, 4, 12])
def test_shapes_any_size_and_bands(size, bands):
    model = build(in_channels=bands, out_indices=(0, 2, 3)).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, bands, *size))
    h, w = size
    for o, s, c in zip(outs, (0, 2, 3), (16, 64, 128)):
        gh, gw = h, w
        for _ in range(s + 2):
            gh, gw = -(-gh // 2), -(-gw // 2)
        assert o.shape == (1, c, gh, gw)


@pytest.mark.parametrize('arch', ['tiny', TINY])
def test_every_parameter_gets_a_gradient(arch):
    arch = dict(TINY, post_norm=False, layer_scale=None, spatial_correction=False) if arch == 'tiny' else arch
    model = build(arch, drop_path_rate=0.1)
    # A random projection: the plain mean of a LayerNorm output has ~zero gradient.
    sum((o * torch.randn_like(o)).sum() for o in model(torch.randn(2, 3, 40, 56))).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_checkpointing_equal():
    x = torch.randn(2, 3, 48, 40, requires_grad=True)
    outs = [build(with_cp=cp).train()(x) for cp in (False, True)]
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b)
    g = [torch.autograd.grad(sum(o.sum() for o in out), x)[0] for out in outs]
    torch.testing.assert_close(g[0], g[1])


def test_reparameterize_identical_and_guards_size():
    model = build().eval()
    x = torch.randn(1, 3, 56, 72)
    with torch.no_grad():
        before = model(x)
        model.reparameterize((56, 72))
        after = model(x)
    for a, b in zip(before, after):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not any('to_k' in k or 'freq_embed' in k for k in model.state_dict())
    with pytest.raises(ValueError, match='call reparameterize'):
        model(torch.randn(1, 3, 64, 64))
    # still a proper module: no plain-list attribute left behind, dtype moves and reloads work
    assert model.freq_embed is None and 'freq_embed' not in dict(model.named_children())
    model.double()
    assert all(b.dtype == torch.float64 for b in model.layers[0][0].op.buffers() if b.is_floating_point())
    model.load_state_dict(model.state_dict())


def test_deprecated_names_still_work():
    legacy = {('embed_dim' if k == 'embed_dims' else k): v for k, v in TINY.items()}
    with pytest.warns(FutureWarning, match="'embed_dim' is deprecated"):
        model = RSvHeat(legacy, img_size=64)
    assert model.embed_dims == 16 and model.stage_channels == (16, 32, 64, 128)
    with pytest.warns(FutureWarning, match='stage_channels'):
        assert model.dims == model.stage_channels
    from mmrsfm.registry import MODELS
    with pytest.warns(FutureWarning, match="renamed 'RSvHeat'"):
        old = MODELS.build(dict(type='mmrsfm.HeatConductionNet', arch=TINY, img_size=64))
    assert isinstance(old, RSvHeat) and old.state_dict().keys() == model.state_dict().keys()


def test_decay_cache_reused_in_eval_and_refreshed_after_update():
    model = build(cache_decay=True).eval()
    x = torch.randn(1, 3, 32, 32)
    op = model.layers[0][0].op
    with torch.no_grad():
        model(x)
        cached = op._decay_cache[1]
        model(x)
        assert op._decay_cache[1] is cached
        model.freq_embed[0].add_(0.5)  # e.g. an optimiser step
        model(x)
        assert op._decay_cache[1] is not cached


def test_two_modality_stems():
    model = build(in_channels=dict(opt=3, sar=1), out_indices=(3, ))
    assert hasattr(model, 'patch_embed_opt') and hasattr(model, 'patch_embed_sar')
    opt = model(torch.randn(1, 3, 32, 32))[0]
    sar = model(torch.randn(1, 1, 32, 32), modality='sar')[0]
    assert opt.shape == sar.shape == (1, 128, 1, 1)
    with pytest.raises(ValueError, match=r"stems for \['opt', 'sar'\]"):
        model(torch.randn(1, 4, 32, 32))


def test_frozen_stages():
    model = build(frozen_stages=2).train()
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert any(n.startswith('patch_embed') for n in frozen)
    assert 'freq_embed.1' in frozen and 'freq_embed.2' not in frozen
    assert all(not n.startswith('layers.2') for n in frozen)
    assert not model.layers[1].training and model.layers[2].training


def test_layer_depth():
    model = build()
    n = sum(TINY['depths']) + 2
    assert model.get_layer_depth('backbone.patch_embed.conv1.weight', 'backbone.') == (0, n)
    assert model.get_layer_depth('backbone.layers.0.0.op.linear.weight', 'backbone.') == (1, n)
    assert model.get_layer_depth('backbone.layers.2.1.mlp.fc1.weight', 'backbone.') == (4, n)
    assert model.get_layer_depth('backbone.layers.2.2.0.weight', 'backbone.') == (4, n)  # downsample
    assert model.get_layer_depth('backbone.freq_embed.2', 'backbone.') == (3, n)
    assert model.get_layer_depth('backbone.outnorm3.weight', 'backbone.') == (n - 1, n)


@pytest.mark.parametrize('arch, img_size, classes, official_m', [
    ('tiny', 224, 1000, 30.85), ('small', 224, 1000, 52.22), ('base', 224, 1000, 92.13),
    ('rs-base', 224, 45, 91.93), ('rs-base', 1024, 1000, 122.86)])
def test_parameter_counts_match_official(arch, img_size, classes, official_m):
    """Official (vHeat / RS-vHeat README) training-mode counts include a LN + Linear classifier, not our outnorms."""
    with torch.device('meta'):
        model = RSvHeat(arch, img_size=img_size)
    n = sum(p.numel() for k, p in model.named_parameters() if not k.startswith('outnorm'))
    c = model.stage_channels[-1]
    assert (n + 2 * c + c * classes + classes) / 1e6 == pytest.approx(official_m, abs=0.006)


def test_bad_arch():
    with pytest.raises(ValueError, match="arch 'huge' is not one of"):
        RSvHeat('huge')
    with pytest.raises(ValueError, match=r"misses \['spatial_correction'\]"):
        RSvHeat({k: v for k, v in TINY.items() if k != 'spatial_correction'})


def test_bf16_autocast_runs_in_compute_dtype_and_stays_close():
    model = build().eval()
    x = torch.randn(2, 3, 64, 64)
    seen = []
    model.layers[1][0].op.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    with torch.no_grad():
        ref = model(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            low = model(x)
    assert seen == [torch.float32, torch.bfloat16]  # the HCO's GEMMs ran in bf16 under autocast
    for a, b in zip(ref, low):
        rel = (a - b.float()).norm() / a.norm()
        assert rel < 0.05, f'bf16 relative error {rel:.3f}'


@pytest.mark.parametrize('stride', [1, 2])
def test_conv3x3_rows_equals_full_conv(stride):
    from mmrsfm.models.backbones.rs_vheat_low_memory import conv3x3_rows
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(4, 6, 3, stride, 1)
    x = torch.randn(2, 11, 9, 4)  # (B, H, W, C)
    full = conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    h_out = full.shape[1]
    for start, stop in [(0, 1), (0, h_out), (2, 4), (h_out - 1, h_out)]:
        torch.testing.assert_close(conv3x3_rows(x, conv, start, stop), full[:, start:stop])
    # from a strip of the input that starts at row 3 (offset) of an 11-row map
    first = 4 if stride == 1 else 2  # the first output row whose window starts at input row >= 3
    rows = conv3x3_rows(x[:, 3:], conv, first, h_out, offset=3, total=11)
    torch.testing.assert_close(rows, full[:, first:])
    with pytest.raises(ValueError, match='needs input rows'):
        conv3x3_rows(x[:, 3:], conv, first - 1, h_out, offset=3, total=11)


def test_inplace_separable_transform_matches():
    from mmrsfm.models.layers import separable_2d_channels_last, separable_2d_channels_last_
    x = torch.randn(2, 7, 5, 3, dtype=torch.float64)
    m_h, m_w = torch.randn(7, 7, dtype=torch.float64), torch.randn(5, 5, dtype=torch.float64)
    ref = separable_2d_channels_last(x, m_h, m_w)
    torch.testing.assert_close(separable_2d_channels_last_(x.clone(), m_h, m_w, chunk_elems=4), ref)


@pytest.mark.parametrize('arch', [TINY, dict(TINY, post_norm=False, layer_scale=None, spatial_correction=False)])
def test_low_memory_inference_equals_plain(arch, monkeypatch):
    # Row strips of a few rows (tiny STRIP_ELEMS) exercise halos, borders and several strips per map.
    import mmrsfm.models.backbones.rs_vheat_low_memory as lm
    monkeypatch.setattr(lm, 'STRIP_ELEMS', 300)
    calls = []
    monkeypatch.setattr(lm, 'block_forward_', lambda *a, _f=lm.block_forward_: calls.append(1) or _f(*a))
    model = build(arch, out_indices=(0, 1, 2, 3)).eval()
    x = torch.randn(2, 3, 57, 83)
    with torch.no_grad():
        model.low_memory_elems = None
        plain = model(x)
        assert not calls
        model.low_memory_elems = 0
        lean = model(x)
    assert len(calls) == sum(model.depths)
    for a, b in zip(plain, lean):
        assert b.is_contiguous()
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-5)
    # autograd always takes the plain path (nothing is updated in place)
    x.requires_grad_(True)
    calls.clear()
    model(x)[0].sum().backward()
    assert not calls and x.grad is not None


def test_low_memory_path_runs_under_flop_counter():
    # FlopCounterMode's module hooks reject views of Parameters made under no_grad (no grad_fn).
    from torch.utils.flop_counter import FlopCounterMode
    model = build(img_size=32, low_memory_elems=0).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, 32, 32))
    assert counter.get_total_flops() > 0


def test_row_strips_cover_the_map_and_cap_gpu_launches():
    from mmrsfm.models.backbones.rs_vheat_low_memory import GPU_MAX_STRIPS, STRIP_ELEMS, row_strips
    for device in ('cpu', 'cuda'):
        for h, row_elems in [(1, 10), (7, 1), (513, STRIP_ELEMS // 3), (256, 4 * STRIP_ELEMS)]:
            strips = row_strips(h, row_elems, torch.device(device))
            assert strips[0][0] == 0 and strips[-1][1] == h
            assert all(a[1] == b[0] for a, b in zip(strips, strips[1:]))
            if device == 'cuda':
                assert len(strips) <= GPU_MAX_STRIPS
    assert len(row_strips(256, 4 * STRIP_ELEMS, torch.device('cpu'))) == 256  # one row each on CPU


def test_rgb_checkpoint_stem_adapts_to_more_bands():
    # A 3-band (or paired opt/SAR) checkpoint initialises a 13-band model: the stem's first conv becomes
    # the mean RGB kernel x 3/13 per band, so a constant image gives the same first-layer response.
    rgb = build(in_channels=3)
    ms = build(in_channels=13)
    ms.load_state_dict(rgb.state_dict(), strict=True)
    x3 = torch.full((1, 3, 8, 8), 0.7)
    x13 = torch.full((1, 13, 8, 8), 0.7)
    torch.testing.assert_close(ms.patch_embed.conv1(x13), rgb.patch_embed.conv1(x3))
    paired = build(in_channels=dict(opt=3, sar=1))
    ms.load_state_dict(paired.state_dict(), strict=True)  # takes the optical stem, then adapts it
    w = paired.patch_embed_opt.conv1.weight
    torch.testing.assert_close(ms.patch_embed.conv1.weight, w.mean(1, keepdim=True).repeat(1, 13, 1, 1) * 3 / 13)
