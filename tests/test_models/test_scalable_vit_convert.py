"""convert_scalable_vit: official MAE / timm layouts -> ScalableViT, checked against an independent plain-ViT
forward."""
import os.path as osp
import runpy
import sys

import pytest
import torch
import torch.nn.functional as F

from mmrsfm.models.backbones.scalable_vit import ScalableViT
from mmrsfm.models.converters import convert_scalable_vit

DIM, DEPTH, HEADS, MLP, P, GRID = 32, 2, 2, 64, 8, 4  # 32x32 images, 4x4 tokens
TINY = dict(embed_dims=DIM, num_layers=DEPTH, num_heads=HEADS, feedforward_channels=MLP)
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def mae_state_dict(bands: int = 3, timm_extras: bool = False) -> dict:
    """Random tensors in facebookresearch/mae's ``models_mae.MaskedAutoencoderViT`` layout."""
    g = torch.Generator().manual_seed(0)

    def r(*shape, scale=0.2):
        return torch.randn(*shape, generator=g) * scale

    sd = {'cls_token': r(1, 1, DIM), 'pos_embed': r(1, 1 + GRID * GRID, DIM), 'mask_token': r(1, 1, 16),
          'patch_embed.proj.weight': r(DIM, bands, P, P, scale=0.05), 'patch_embed.proj.bias': r(DIM),
          'norm.weight': 1 + r(DIM), 'norm.bias': r(DIM),
          'decoder_embed.weight': r(16, DIM), 'decoder_embed.bias': r(16), 'decoder_pos_embed': r(1, 17, 16),
          'decoder_blocks.0.attn.qkv.weight': r(48, 16), 'decoder_norm.weight': r(16),
          'decoder_pred.weight': r(P * P * bands, 16), 'decoder_pred.bias': r(P * P * bands)}
    for i in range(DEPTH):
        b = f'blocks.{i}.'
        sd.update({b + 'norm1.weight': 1 + r(DIM), b + 'norm1.bias': r(DIM),
                   b + 'attn.qkv.weight': r(3 * DIM, DIM), b + 'attn.qkv.bias': r(3 * DIM),
                   b + 'attn.proj.weight': r(DIM, DIM), b + 'attn.proj.bias': r(DIM),
                   b + 'norm2.weight': 1 + r(DIM), b + 'norm2.bias': r(DIM),
                   b + 'mlp.fc1.weight': r(MLP, DIM), b + 'mlp.fc1.bias': r(MLP),
                   b + 'mlp.fc2.weight': r(DIM, MLP), b + 'mlp.fc2.bias': r(DIM)})
        if timm_extras:
            sd.update({b + 'ls1.gamma': 1 + r(DIM), b + 'ls2.gamma': 1 + r(DIM)})
    if timm_extras:
        sd = {k: v for k, v in sd.items() if not k.startswith(('decoder_', 'mask_token'))}
        sd.update({'fc_norm.weight': r(DIM), 'fc_norm.bias': r(DIM), 'head.weight': r(10, DIM), 'head.bias': r(10)})
    return sd


def reference_vit(sd: dict, x: torch.Tensor, layer_scale: bool = False) -> torch.Tensor:
    """Plain ViT with global attention, from the source keys; the cls token is left out (ScalableViT
    has none), so the tokens are the patches with their grid positions. Returns (B, C, h, w)."""
    t = F.conv2d(x, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=P)
    b, c, h, w = t.shape
    t = t.flatten(2).transpose(1, 2) + sd['pos_embed'][:, 1:]  # (B, N, C)
    for i in range(DEPTH):
        k = lambda n: sd[f'blocks.{i}.{n}']  # noqa: E731
        y = F.layer_norm(t, (c, ), k('norm1.weight'), k('norm1.bias'), eps=1e-6)
        qkv = (y @ k('attn.qkv.weight').T + k('attn.qkv.bias')).reshape(b, -1, 3, HEADS, c // HEADS)
        q, kk, v = qkv.permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ kk.transpose(-1, -2) / (c // HEADS)**0.5, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, -1, c) @ k('attn.proj.weight').T + k('attn.proj.bias')
        t = t + (y * k('ls1.gamma') if layer_scale else y)
        y = F.layer_norm(t, (c, ), k('norm2.weight'), k('norm2.bias'), eps=1e-6)
        y = F.gelu(y @ k('mlp.fc1.weight').T + k('mlp.fc1.bias')) @ k('mlp.fc2.weight').T + k('mlp.fc2.bias')
        t = t + (y * k('ls2.gamma') if layer_scale else y)
    t = F.layer_norm(t, (c, ), sd['norm.weight'], sd['norm.bias'], eps=1e-6)
    return t.transpose(1, 2).reshape(b, c, h, w)


@pytest.mark.parametrize('layout', ['mae', 'timm'])
def test_converted_weights_load_strictly_and_match_a_reference_forward(layout):
    timm = layout == 'timm'
    sd = mae_state_dict(bands=4, timm_extras=timm)
    wrapped = {'model': {('module.' if timm else '') + k: v for k, v in sd.items()}}
    converted, dropped = convert_scalable_vit(wrapped)
    model = ScalableViT(TINY, in_channels=4, img_size=32, patch_size=P, window_size=0,
                        layer_scale_init_value=1. if timm else None).eval()
    model.load_state_dict(converted, strict=True)
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        (out, ) = model(x)
    torch.testing.assert_close(out, reference_vit(sd, x, layer_scale=timm), rtol=1e-5, atol=1e-5)
    expected = {'cls_token'}
    expected |= {'fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias'} if timm else {
        'mask_token', 'decoder_embed.weight', 'decoder_embed.bias', 'decoder_pos_embed',
        'decoder_blocks.0.attn.qkv.weight', 'decoder_norm.weight', 'decoder_pred.weight', 'decoder_pred.bias'}
    assert dropped == sorted(('module.' if timm else '') + k for k in expected)  # source names


def test_pos_embed_is_resized_to_the_target_grid_and_windows_load_the_same_keys():
    sd = mae_state_dict()
    converted, _ = convert_scalable_vit({'model': sd}, grid_size=(6, 5))
    grid = sd['pos_embed'][:, 1:].reshape(1, GRID, GRID, DIM).permute(0, 3, 1, 2)
    expected = F.interpolate(grid, size=(6, 5), mode='bicubic', align_corners=False).permute(0, 2, 3, 1)
    torch.testing.assert_close(converted['pos_embed'], expected)
    # A ViTDet-style model (window blocks + global blocks) at 48x40 takes the same weights strictly.
    model = ScalableViT(TINY, img_size=(48, 40), patch_size=P, window_size=2, global_attn_indexes=(1, ))
    model.load_state_dict(converted, strict=True)
    torch.testing.assert_close(model.pos_embed.data, expected)


def test_bad_checkpoints_fail_clearly():
    sd = mae_state_dict()
    sd['blocks.0.attn.q_norm.weight'] = torch.ones(DIM // HEADS)
    with pytest.raises(ValueError, match=r"no ScalableViT counterpart: \['blocks.0.attn.q_norm.weight'\]"):
        convert_scalable_vit(sd)
    with pytest.raises(ValueError, match='not a ViT checkpoint; expected a plain ViT checkpoint'):
        convert_scalable_vit({'state_dict': {'cls_token': torch.zeros(1, 1, 4)}})
    flat = {'patch_embed.proj.weight': torch.zeros(DIM, 3, P, P), 'pos_embed': torch.zeros(1, 1 + 2 * 3, DIM),
            'cls_token': torch.zeros(1, 1, DIM)}
    with pytest.raises(ValueError, match='--src-grid'):
        convert_scalable_vit(flat)
    assert convert_scalable_vit(flat, src_grid=(2, 3))[0]['pos_embed'].shape == (1, 2, 3, DIM)


def test_cli_writes_a_checkpoint_for_init_cfg(tmp_path, monkeypatch, capsys):
    src, dst = str(tmp_path / 'mae.pth'), str(tmp_path / 'vit.pth')
    torch.save({'model': mae_state_dict()}, src)
    monkeypatch.setattr(sys, 'argv', ['scalable_vit2mmrsfm.py', src, dst, '--img-size', '48', '--patch-size', str(P)])
    runpy.run_path(osp.join(REPO, 'tools/model_converters/scalable_vit2mmrsfm.py'), run_name='__main__')
    out = capsys.readouterr().out
    assert 'dropped 9 source keys' in out and 'decoder_pred.weight' in out and 'pos_embed grid (6, 6)' in out
    saved = torch.load(dst, weights_only=True)
    assert saved['state_dict']['pos_embed'].shape == (1, 6, 6, DIM) and 'mask_token' in saved['meta']['dropped']
    model = ScalableViT(TINY, img_size=48, patch_size=P,
                        init_cfg=dict(type='Pretrained', checkpoint=dst))
    model.init_weights()
    torch.testing.assert_close(model.blocks[1].mlp.fc2.weight.data, mae_state_dict()['blocks.1.mlp.fc2.weight'])
