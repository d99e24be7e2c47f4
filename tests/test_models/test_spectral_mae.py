"""SpectralMAE: patch layout, the official multi-target loss by hand, masking, training, progressive
resizing of the position embeddings."""
import itertools
import warnings

import pytest
import torch
import torch.nn.functional as F
from mmengine.runner import load_checkpoint

from mmrsfm.registry import MODELS

TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


def build(img_size=32, **kw):
    cfg = dict(type='mmrsfm.SpectralMAE', backbone=dict(type='mmrsfm.SpectralGPT', arch=TINY, img_size=img_size),
               decoder_embed_dims=16, decoder_depth=1, decoder_num_heads=2)
    cfg.update(kw)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_patchify_layout_and_inverse():
    model = build()
    imgs = torch.randn(2, 6, 16, 24)  # 2 groups x (2 x 3) tokens of 3 x 8 x 8 pixels
    patches = model.patchify(imgs)
    assert patches.shape == (2, 2 * 2 * 3, 192)
    p, h, w = 8, 2, 3
    for b, t, i, j, u, r, c in [(0, 0, 0, 0, 0, 0, 0), (1, 1, 1, 2, 2, 7, 5), (0, 1, 0, 1, 1, 3, 6)]:
        token, pixel = t * h * w + i * w + j, u * p * p + r * p + c
        assert patches[b, token, pixel] == imgs[b, t * 3 + u, i * p + r, j * p + c]
    torch.testing.assert_close(model.unpatchify(patches, (2, h, w)), imgs)


def test_loss_matches_hand_computed_value():
    model = build(spectral_sum_weight=0.5)
    g = torch.Generator().manual_seed(0)
    b, t, hw, dim = 2, 2, 2, 3 * 8 * 8  # 6 bands = 2 groups of 3, a 1 x 2 grid of 8 x 8 patches
    imgs = torch.randint(-3, 4, (b, 6, 8, 16), generator=g).float()
    target = model.patchify(imgs)  # (B, t * hw, dim), layout checked above
    pred = torch.randint(-3, 4, (b, t * hw, dim), generator=g).float()
    mask = torch.tensor([[1., 0, 1, 1], [0, 1, 0, 0]])
    # Written out token by token from the official forward_loss.
    masked_sum, n_masked = 0.0, 0
    for bi, li in itertools.product(range(b), range(t * hw)):
        if mask[bi, li]:
            masked_sum += ((pred[bi, li] - target[bi, li])**2).sum().item() / dim
            n_masked += 1
    sum_err = 0.0
    for bi, s in itertools.product(range(b), range(hw)):
        ps = sum(pred[bi, g_ * hw + s] for g_ in range(t))  # token order is group-major
        ts = sum(target[bi, g_ * hw + s] for g_ in range(t))
        sum_err += ((ps - ts)**2).sum().item()
    losses = model.forward_loss(imgs, pred, mask)
    assert losses['loss_masked'].item() == pytest.approx(masked_sum / n_masked, rel=1e-6)
    assert losses['loss_spectral_sum'].item() == pytest.approx(0.5 * sum_err / (b * hw * dim), rel=1e-6)
    # norm_pix_loss normalises the masked-token target only (the group sums use raw patches, as official).
    model.norm_pix_loss = True
    normed = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
    want = (((pred - normed)**2).mean(-1) * mask).sum() / mask.sum()
    losses_n = model.forward_loss(imgs, pred, mask)
    assert losses_n['loss_masked'].item() == pytest.approx(want.item(), rel=1e-6)
    assert losses_n['loss_spectral_sum'].item() == pytest.approx(losses['loss_spectral_sum'].item(), rel=1e-6)


def test_masking_band_padding_and_predict_shapes():
    model = build()
    x = torch.rand(2, 10, 48, 40)  # 10 bands -> 12 (4 groups); 6 x 5 grid; 120 tokens
    with torch.no_grad():
        latent, mask, _, size = model.forward_encoder(model.backbone.pad_bands(x))
        torch.manual_seed(0)
        out = model([x[0], x[1]], mode='predict')  # a list of samples is stacked
        torch.manual_seed(0)
        raw = model(x, mode='tensor')
    assert size == (4, 6, 5) and latent.shape == (2, 12, 32)
    assert mask.sum(1).tolist() == [108, 108]
    assert len(out) == 2 and all(o.pred.shape == o.target.shape == o.mask.shape == x.shape[1:] for o in out)
    torch.testing.assert_close(out[1].target, x[1])  # the padded bands are cropped away
    # 108 of 120 tokens masked; the two padded bands of the last group are cropped from the mask too.
    assert out[0].mask.sum().item() == 108 * 8 * 8 * 3 - (out[0].mask[9].sum().item() * 2)
    assert raw.shape == (2, 120, 3 * 8 * 8)
    torch.testing.assert_close(model.unpatchify(raw, size)[:, :10], torch.stack([o.pred for o in out]))
    with pytest.raises(ValueError, match=r'\(B, bands, H, W\)'):
        model(torch.rand(10, 48, 40))


def test_minmax_normalisation_is_per_image_per_band():
    x = torch.rand(2, 12, 32, 32)
    scaled = x * torch.rand(2, 12, 1, 1) * 100 + torch.randn(2, 12, 1, 1) * 50  # per-image/band affine
    lo, hi = x.amin((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)
    torch.manual_seed(1)
    want = build()(((x - lo) / (hi - lo)))
    torch.manual_seed(1)
    got = build(minmax_norm=True)(scaled)
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=1e-4, atol=1e-5)


def test_loss_falls_when_training():
    model = build(mask_ratio=0.75)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    x = torch.rand(4, 12, 32, 32)
    first = None
    for step in range(40):
        torch.manual_seed(step)
        loss = sum(model(x).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.3 * first, (first, loss.item())


def test_progressive_training_interpolates_position_embeddings(tmp_path):
    """Stage 1 at 32² (4x4 grid), stage 2 at 48² (6x6): loading interpolates instead of discarding."""
    stage1 = build(img_size=32)
    stage2 = build(img_size=48)
    ckpt = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': stage1.state_dict()}, ckpt)
    load_checkpoint(stage2, ckpt, strict=True)  # what the runner's load_from does
    grid = stage1.decoder_pos_embed_spatial.detach().reshape(1, 4, 4, 16).permute(0, 3, 1, 2)
    want = F.interpolate(grid, size=(6, 6), mode='bicubic', align_corners=False).permute(0, 2, 3, 1)
    torch.testing.assert_close(stage2.decoder_pos_embed_spatial.detach(), want.reshape(1, 36, 16))
    assert stage2.backbone.pos_embed_spatial.shape == (1, 36, 32)
    # Feeding 48² images to the stage-1 model resizes at run time the same way.
    x = torch.rand(2, 12, 48, 48)
    with torch.no_grad():
        torch.manual_seed(2)
        a = stage1(x)
        torch.manual_seed(2)
        b = stage2(x)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)


def test_deprecated_preprocessor_spelling_builds_and_warns_once():
    """The shipped config's preprocessor is spelled MultiSpectralDataPreprocessor; the v0.1 spelling
    still builds the same class for one release."""
    from mmrsfm.models.data_preprocessors import multispectral
    multispectral.MultiSpectralDataPreProcessor._warned = False
    with pytest.warns(FutureWarning, match="use 'MultiSpectralDataPreprocessor'"):
        old = MODELS.build(dict(type='mmrsfm.MultiSpectralDataPreProcessor', norm='minmax', num_bands=12))
    assert isinstance(old, multispectral.MultiSpectralDataPreprocessor) and old.num_bands == 12
    with warnings.catch_warnings():
        warnings.filterwarnings('error', message='.*MultiSpectralDataPreProcessor')
        MODELS.build(dict(type='mmrsfm.MultiSpectralDataPreProcessor', norm='minmax'))  # once per process
        MODELS.build(dict(type='mmrsfm.MultiSpectralDataPreprocessor', norm='minmax'))
