"""Official SpectralGPT key layout -> SpectralGPT / SpectralMAE, checked against an independent
functional forward that follows the official code (``models_mae_spectral.py``, ``util/video_vit.py``,
SegMunich ``models_vit_tensor_CD_2.py`` in danfenghong/IEEE_TPAMI_SpectralGPT) and reads the official
keys directly."""
import argparse
import os.path as osp
import runpy
import sys

import pytest
import torch
import torch.nn.functional as F

from mmrsfm.models import SpectralGPT, SpectralMAE
from mmrsfm.models.converters import convert_spectralgpt
from conftest import REPO, SINGLE_THREAD, run_tool

DIM, DEPTH, HEADS = 32, 2, 2
DEC, DEC_DEPTH, DEC_HEADS = 16, 1, 2
P, U, BANDS = 8, 3, 12
TINY = dict(embed_dims=DIM, num_layers=DEPTH, num_heads=HEADS, feedforward_channels=4 * DIM)


def official_state(g, grid=4, groups=4):
    """Random tensors with the official MAE key names and shapes (``MaskedAutoencoderViT`` of
    ``models_mae_spectral.py``)."""
    r = lambda *s: torch.randn(*s, generator=g) * 0.2  # noqa: E731

    def block(p, c):
        sd = {p + 'norm1.weight': 1 + r(c), p + 'norm1.bias': r(c), p + 'norm2.weight': 1 + r(c),
              p + 'norm2.bias': r(c), p + 'mlp.fc1.weight': r(4 * c, c), p + 'mlp.fc1.bias': r(4 * c),
              p + 'mlp.fc2.weight': r(c, 4 * c), p + 'mlp.fc2.bias': r(c)}
        for n in ('q', 'k', 'v', 'proj'):
            sd.update({f'{p}attn.{n}.weight': r(c, c), f'{p}attn.{n}.bias': r(c)})
        return sd

    sd = {'patch_embed.proj.weight': r(DIM, 1, U, P, P), 'patch_embed.proj.bias': r(DIM),
          'pos_embed_spatial': r(1, grid * grid, DIM), 'pos_embed_temporal': r(1, groups, DIM),
          'norm.weight': 1 + r(DIM), 'norm.bias': r(DIM),
          'decoder_embed.weight': r(DEC, DIM), 'decoder_embed.bias': r(DEC), 'mask_token': r(1, 1, DEC),
          'decoder_pos_embed_spatial': r(1, grid * grid, DEC), 'decoder_pos_embed_temporal': r(1, groups, DEC),
          'decoder_norm.weight': 1 + r(DEC), 'decoder_norm.bias': r(DEC),
          'decoder_pred.weight': r(U * P * P, DEC), 'decoder_pred.bias': r(U * P * P)}
    for i in range(DEPTH):
        sd.update(block(f'blocks.{i}.', DIM))
    for i in range(DEC_DEPTH):
        sd.update(block(f'decoder_blocks.{i}.', DEC))
    return sd


# ---- independent reference: the official maths, eager attention ---------------------------------
def ref_block(x, sd, p, heads):
    b, n, c = x.shape

    def split(t):
        return t.reshape(b, n, heads, c // heads).permute(0, 2, 1, 3)

    h = F.layer_norm(x, (c, ), sd[p + 'norm1.weight'], sd[p + 'norm1.bias'], eps=1e-6)
    q, k, v = (split(F.linear(h, sd[f'{p}attn.{m}.weight'], sd[f'{p}attn.{m}.bias'])) for m in 'qkv')
    attn = ((q @ k.transpose(-2, -1)) * (c // heads)**-0.5).softmax(-1)
    x = x + F.linear((attn @ v).transpose(1, 2).reshape(b, n, c), sd[p + 'attn.proj.weight'], sd[p + 'attn.proj.bias'])
    h = F.layer_norm(x, (c, ), sd[p + 'norm2.weight'], sd[p + 'norm2.bias'], eps=1e-6)
    h = F.linear(F.gelu(F.linear(h, sd[p + 'mlp.fc1.weight'], sd[p + 'mlp.fc1.bias'])), sd[p + 'mlp.fc2.weight'],
                 sd[p + 'mlp.fc2.bias'])
    return x + h


def ref_pos(spatial, temporal, t, hw):
    return spatial.repeat(1, t, 1) + torch.repeat_interleave(temporal, hw, dim=1)


def ref_patch_tokens(imgs, sd):
    x = F.conv3d(imgs.unsqueeze(1), sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=(U, P, P))
    x = torch.einsum('ncts->ntsc', x.flatten(3))  # (N, T, H*W, C)
    return x


def ref_segmunich(imgs, sd, head):
    """SegMunich model: last block (no final norm), Linear(4 -> 1) over groups, conv0..conv3 pyramid."""
    x = ref_patch_tokens(imgs, sd)
    n, t, hw, c = x.shape
    x = x.reshape(n, t * hw, c) + ref_pos(sd['pos_embed_spatial'], sd['pos_embed_temporal'], t, hw)
    for i in range(DEPTH):
        x = ref_block(x, sd, f'blocks.{i}.', HEADS)
    side = int(hw**0.5)
    seg = F.linear(x.view(n, t, hw, c).permute(0, 2, 3, 1), head['fc.0.weight'], head['fc.0.bias'])
    seg = seg.reshape(n, side, side, c).permute(0, 3, 1, 2)
    outs = []
    for i, scale in enumerate((8, 4, 2, 1)):
        y = F.conv2d(seg, head[f'conv{i}.0.weight'], head[f'conv{i}.0.bias'])
        y = F.gelu(F.group_norm(y, 4, head[f'conv{i}.1.weight'], head[f'conv{i}.1.bias']))
        if scale > 1:
            y = F.conv_transpose2d(y, head[f'conv{i}.3.weight'], head[f'conv{i}.3.bias'], stride=scale)
        outs.append(y)
    return outs


def ref_mae(imgs, sd, mask_ratio, seed):
    """Official MaskedAutoencoderViT.forward: (loss, pred, mask)."""
    x = ref_patch_tokens(imgs, sd)
    n, t, hw, c = x.shape
    x, length = x.reshape(n, t * hw, c), t * hw
    keep = int(length * (1 - mask_ratio))
    torch.manual_seed(seed)
    noise = torch.rand(n, length)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :keep]
    x = torch.gather(x, 1, ids_keep[..., None].repeat(1, 1, c))
    mask = torch.ones(n, length)
    mask[:, :keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    pos = ref_pos(sd['pos_embed_spatial'], sd['pos_embed_temporal'], t, hw).expand(n, -1, -1)
    x = x + torch.gather(pos, 1, ids_keep[..., None].repeat(1, 1, c))
    for i in range(DEPTH):
        x = ref_block(x, sd, f'blocks.{i}.', HEADS)
    x = F.layer_norm(x, (c, ), sd['norm.weight'], sd['norm.bias'], eps=1e-6)
    x = F.linear(x, sd['decoder_embed.weight'], sd['decoder_embed.bias'])
    x = torch.cat([x, sd['mask_token'].repeat(n, length - keep, 1)], 1)
    x = torch.gather(x, 1, ids_restore[..., None].repeat(1, 1, DEC))
    x = x + ref_pos(sd['decoder_pos_embed_spatial'], sd['decoder_pos_embed_temporal'], t, hw)
    for i in range(DEC_DEPTH):
        x = ref_block(x, sd, f'decoder_blocks.{i}.', DEC_HEADS)
    x = F.layer_norm(x, (DEC, ), sd['decoder_norm.weight'], sd['decoder_norm.bias'], eps=1e-6)
    pred = F.linear(x, sd['decoder_pred.weight'], sd['decoder_pred.bias'])
    # forward_loss: patchify 'nctuhpwq->nthwupqc', masked MSE + MSE of group sums over all positions.
    side = int(hw**0.5)
    target = imgs.unsqueeze(1).reshape(n, 1, t, U, side, P, side, P)
    target = torch.einsum('nctuhpwq->nthwupqc', target).reshape(n, length, U * P * P)
    loss1 = ((pred - target)**2).mean(-1)
    loss1 = (loss1 * mask).sum() / mask.sum()
    ts = target.reshape(n, t, hw, U * P * P).sum(1)
    ps = pred.reshape(n, t, hw, U * P * P).sum(1)
    loss3 = ((ps - ts)**2).mean(-1).sum() / (n * hw)
    return loss1 + loss3, pred, mask


# ---- tests ----------------------------------------------------------------------------------------
def test_encoder_matches_official_forward_after_strict_load():
    sd = official_state(torch.Generator().manual_seed(0))
    model = SpectralGPT(arch=TINY, img_size=32, out_type='featmap', spectral_fusion='mean', final_norm=True).eval()
    converted, dropped = convert_spectralgpt({'model': sd})
    model.load_state_dict(converted)  # strict
    assert dropped == sorted(k for k in sd if k.startswith(('decoder', 'mask_token')))
    imgs = torch.randn(2, BANDS, 32, 32)
    x = ref_patch_tokens(imgs, sd)
    n, t, hw, c = x.shape
    x = x.reshape(n, t * hw, c) + ref_pos(sd['pos_embed_spatial'], sd['pos_embed_temporal'], t, hw)
    for i in range(DEPTH):
        x = ref_block(x, sd, f'blocks.{i}.', HEADS)
    x = F.layer_norm(x, (c, ), sd['norm.weight'], sd['norm.bias'], eps=1e-6)
    want = x.view(n, t, 4, 4, c).mean(1).permute(0, 3, 1, 2)
    with torch.no_grad():
        torch.testing.assert_close(model(imgs)[0], want, rtol=1e-5, atol=1e-5)


def test_pyramid_matches_official_segmunich_head():
    g = torch.Generator().manual_seed(1)
    sd = official_state(g)
    chans, mids = (8, 16, 32, 32), (16, 16, 32, 32)
    head = {'fc.0.weight': torch.randn(1, 4, generator=g), 'fc.0.bias': torch.randn(1, generator=g)}
    for i, (oc, mc, s) in enumerate(zip(chans, mids, (8, 4, 2, 1))):
        head.update({f'conv{i}.0.weight': torch.randn(mc, DIM, 1, 1, generator=g) * 0.2,
                     f'conv{i}.0.bias': torch.randn(mc, generator=g) * 0.2,
                     f'conv{i}.1.weight': 1 + torch.randn(mc, generator=g) * 0.2,
                     f'conv{i}.1.bias': torch.randn(mc, generator=g) * 0.2})
        if s > 1:
            head.update({f'conv{i}.3.weight': torch.randn(mc, oc, s, s, generator=g) * 0.2,
                         f'conv{i}.3.bias': torch.randn(oc, generator=g) * 0.2})
    model = SpectralGPT(arch=TINY, img_size=32, pyramid_cfg=dict(channels=chans, mid_channels=mids, norm_groups=4))
    converted, dropped = convert_spectralgpt({'model': {**sd, **head}})  # the downstream head keys are dropped
    assert not any(k.startswith(('fc.', 'conv')) for k in converted) and set(head) <= set(dropped)
    # Our fusion/pyramid names differ from SegMunich's (no fine-tuned weights were released): map by hand.
    converted['spectral_fuse.weight'], converted['spectral_fuse.bias'] = head['fc.0.weight'], head['fc.0.bias']
    for i in range(4):
        for j in (0, 1, 3):
            for n in ('weight', 'bias'):
                if f'conv{i}.{j}.{n}' in head:
                    converted[f'pyramid.{i}.{j}.{n}'] = head[f'conv{i}.{j}.{n}']
    model.load_state_dict(converted)  # strict
    imgs = torch.randn(2, BANDS, 32, 32)
    with torch.no_grad():
        for ours, ref in zip(model.eval()(imgs), ref_segmunich(imgs, sd, head)):
            torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_official_decoder_loads_into_spectral_mae_and_matches_official_forward():
    sd = {'module.' + k: v for k, v in official_state(torch.Generator().manual_seed(2)).items()}
    model = SpectralMAE(backbone=dict(type='mmrsfm.SpectralGPT', arch=TINY, img_size=32), mask_ratio=0.75,
                        decoder_embed_dims=DEC, decoder_depth=DEC_DEPTH, decoder_num_heads=DEC_HEADS)
    converted, dropped = convert_spectralgpt({'model': sd, 'optimizer': {}, 'epoch': 199}, with_decoder=True)
    model.load_state_dict(converted)
    assert dropped == []
    imgs = torch.rand(2, BANDS, 32, 32)
    ref_loss, ref_pred, ref_mask = ref_mae(imgs, {k[7:]: v for k, v in sd.items()}, 0.75, seed=3)
    with torch.no_grad():
        torch.manual_seed(3)
        latent, mask, ids_restore, size = model.forward_encoder(imgs)
        pred = model.forward_decoder(latent, ids_restore, size)
        torch.manual_seed(3)
        losses = model(imgs, mode='loss')
    torch.testing.assert_close(mask, ref_mask)
    torch.testing.assert_close(pred, ref_pred, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(losses['loss_masked'] + losses['loss_spectral_sum'], ref_loss, rtol=1e-5, atol=1e-6)


def test_96_checkpoint_loads_into_128_layout_with_resized_embeddings():
    # The 96² release (12x12 grid) into a 128² model (16x16): here 3x3 -> 4x4, encoder and decoder.
    sd = official_state(torch.Generator().manual_seed(4), grid=3)
    model = SpectralMAE(backbone=dict(type='mmrsfm.SpectralGPT', arch=TINY, img_size=32),
                        decoder_embed_dims=DEC, decoder_depth=DEC_DEPTH, decoder_num_heads=DEC_HEADS)
    model.load_state_dict(convert_spectralgpt(sd, with_decoder=True)[0])
    assert model.backbone.pos_embed_spatial.shape == (1, 16, DIM)
    assert model.decoder_pos_embed_spatial.shape == (1, 16, DEC)


def test_converter_rejects_what_it_cannot_convert():
    sd = official_state(torch.Generator().manual_seed(5))
    with pytest.raises(KeyError, match=r"not SpectralGPT keys: \['something.else'\]; expected an official SpectralGPT"):
        convert_spectralgpt({**sd, 'something.else': torch.zeros(1)})
    with pytest.raises(ValueError, match='sep_pos_embed=False'):
        convert_spectralgpt({**sd, 'pos_embed': torch.zeros(1, 64, DIM)})
    encoder_only = {k: v for k, v in sd.items() if not k.startswith(('decoder', 'mask_token'))}
    with pytest.raises(KeyError, match='no decoder'):
        convert_spectralgpt(encoder_only, with_decoder=True)
    assert set(convert_spectralgpt(sd)[0]) == set(encoder_only)


def test_cli_converts_an_official_file(tmp_path, monkeypatch):
    src, dst = osp.join(tmp_path, 'SpectralGPT.pth'), osp.join(tmp_path, 'out.pth')
    # Official files also pickle the argparse namespace, which weights_only loading refuses.
    torch.save({'model': official_state(torch.Generator().manual_seed(6)), 'args': argparse.Namespace(lr=1.0)}, src)
    tool = 'tools/model_converters/spectralgpt2mmrsfm.py'
    # Refused without the flag, with the fix in the message (in-process: saves a 4 s interpreter start).
    monkeypatch.setattr(sys, 'argv', [tool, src, dst])
    with pytest.raises(SystemExit, match='--trust-checkpoint'):
        runpy.run_path(osp.join(REPO, tool), run_name='__main__')
    assert not osp.exists(dst)
    run_tool([tool, src, dst, '--with-decoder', '--trust-checkpoint'], env=SINGLE_THREAD)
    model = SpectralMAE(backbone=dict(type='mmrsfm.SpectralGPT', arch=TINY, img_size=32),
                        decoder_embed_dims=DEC, decoder_depth=DEC_DEPTH, decoder_num_heads=DEC_HEADS)
    model.load_state_dict(torch.load(dst, weights_only=True)['state_dict'])
