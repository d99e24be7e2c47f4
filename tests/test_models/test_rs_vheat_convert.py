"""Official vHeat / RS-vHeat key layouts -> RSvHeat, checked against an independent functional forward
that reads the official keys directly (written from the papers, arXiv 2405.16555 and 2411.17984, and the
official ``classification/models/vHeat.py`` of MzeroMiko/vHeat and ``models/vHeat/RS_vHeat.py`` of
iecashhy/RS-vHeat)."""
import math
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from mmrsfm.models import RSvHeat
from mmrsfm.models.converters import convert_rs_vheat
from mmrsfm.models.converters.rs_vheat import VHEAT_CLS_MISSING

DIM, DEPTHS = 16, (1, 2, 1, 1)


def official_state(g, bands=3, post_norm=True, rs=False, img=64, classes=10, stems=('',)):
    """A random state dict with the official key names and shapes."""
    r = lambda *s: torch.randn(*s, generator=g) * 0.2  # noqa: E731
    sd = {}
    for stem in stems:
        pe, b = f'patch_embed{stem}', (1 if stem == '_sar' else bands)
        sd.update({f'{pe}.conv1.weight': r(DIM // 2, b, 3, 3), f'{pe}.conv1.bias': r(DIM // 2),
                   f'{pe}.norm1.1.weight': 1 + r(DIM // 2), f'{pe}.norm1.1.bias': r(DIM // 2),
                   f'{pe}.conv2.weight': r(DIM, DIM // 2, 3, 3), f'{pe}.conv2.bias': r(DIM),
                   f'{pe}.norm2.1.weight': 1 + r(DIM), f'{pe}.norm2.1.bias': r(DIM)})
    for s, depth in enumerate(DEPTHS):
        c, grid = DIM * 2**s, img // 4 // 2**s
        sd[f'freq_embed.{s}'] = r(grid, grid, c)
        if rs:
            sd[f'heat_capacity.{s}'] = r(grid, grid, c)
        for b in range(depth):
            p = f'layers.{s}.{b}.'
            sd.update({p + 'norm1.weight': 1 + r(c), p + 'norm1.bias': r(c),
                       p + 'op.dwconv.weight': r(c, 1, 3, 3), p + 'op.dwconv.bias': r(c),
                       p + 'op.linear.weight': r(2 * c, c), p + 'op.linear.bias': r(2 * c),
                       p + 'op.out_norm.weight': 1 + r(c), p + 'op.out_norm.bias': r(c),
                       p + 'op.out_linear.weight': r(c, c), p + 'op.out_linear.bias': r(c),
                       p + 'op.to_k.0.weight': r(c, c), p + 'op.to_k.0.bias': r(c),
                       p + 'norm2.weight': 1 + r(c), p + 'norm2.bias': r(c),
                       p + 'mlp.fc1.weight': r(4 * c, c, 1, 1), p + 'mlp.fc1.bias': r(4 * c),
                       p + 'mlp.fc2.weight': r(c, 4 * c, 1, 1), p + 'mlp.fc2.bias': r(c)})
            if post_norm:
                sd.update({p + 'gamma1': 0.5 + r(c), p + 'gamma2': 0.5 + r(c)})
            if rs:
                sd.update({p + 'op.norm1.weight': 1 + r(c), p + 'op.norm1.bias': r(c)})
        if s < len(DEPTHS) - 1:
            sd[f'layers.{s}.{depth}.0.weight'] = r(2 * c, c, 3, 3)
            sd[f'layers.{s}.{depth}.1.weight'] = 1 + r(2 * c)
            sd[f'layers.{s}.{depth}.1.bias'] = r(2 * c)
    c = DIM * 8
    sd.update({'classifier.0.weight': 1 + r(c), 'classifier.0.bias': r(c),
               'classifier.3.weight': r(classes, c), 'classifier.3.bias': r(classes)})
    return sd


def ln2d(x, sd, key):
    return F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1], ), sd[key + '.weight'],
                        sd[key + '.bias']).permute(0, 3, 1, 2)


def cos_map(n):
    k, x = torch.arange(n, dtype=torch.float64)[:, None], torch.arange(n, dtype=torch.float64)[None]
    w = torch.cos(math.pi * k * (x + 0.5) / n) * math.sqrt(2 / n)
    w[0] /= math.sqrt(2)
    return w.float()


def official_forward(sd, x, post_norm=True, rs=False, stem='', outnorm=None):
    """Stage outputs (before downsampling) the way the official code computes them."""
    pe = f'patch_embed{stem}'
    x = F.conv2d(x, sd[f'{pe}.conv1.weight'], sd[f'{pe}.conv1.bias'], stride=2, padding=1)
    x = F.gelu(ln2d(x, sd, f'{pe}.norm1.1'))
    x = ln2d(F.conv2d(x, sd[f'{pe}.conv2.weight'], sd[f'{pe}.conv2.bias'], stride=2, padding=1), sd, f'{pe}.norm2.1')
    outs = []
    for s, depth in enumerate(DEPTHS):
        for b in range(depth):
            p = f'layers.{s}.{b}.'

            def hco(t):
                _, c, h, w = t.shape
                if rs:
                    sce = F.interpolate(sd[f'heat_capacity.{s}'].permute(2, 0, 1)[None], (h, w), mode='bilinear')
                    t = ln2d(F.relu(t + sce), sd, p + 'op.norm1')
                t = F.conv2d(t, sd[p + 'op.dwconv.weight'], sd[p + 'op.dwconv.bias'], padding=1, groups=c)
                t = F.linear(t.permute(0, 2, 3, 1), sd[p + 'op.linear.weight'], sd[p + 'op.linear.bias'])
                t, z = t.chunk(2, -1)
                cn, cm = cos_map(h), cos_map(w)
                u = torch.einsum('nh,bhwc,mw->bnmc', cn, t, cm)
                fve = F.interpolate(sd[f'freq_embed.{s}'].permute(2, 0, 1)[None], (h, w), mode='bilinear')[0]
                k = F.relu(F.linear(fve.permute(1, 2, 0), sd[p + 'op.to_k.0.weight'], sd[p + 'op.to_k.0.bias']))
                decay = torch.exp(-(torch.linspace(0, math.pi, h + 1)[:h, None]**2 +
                                    torch.linspace(0, math.pi, w + 1)[None, :w]**2))
                u = u * decay[..., None]**k
                t = torch.einsum('nh,bnmc,mw->bhwc', cn, u, cm)
                t = F.layer_norm(t, (c, ), sd[p + 'op.out_norm.weight'], sd[p + 'op.out_norm.bias']) * F.silu(z)
                return F.linear(t, sd[p + 'op.out_linear.weight'], sd[p + 'op.out_linear.bias']).permute(0, 3, 1, 2)

            def mlp(t):
                t = F.gelu(F.conv2d(t, sd[p + 'mlp.fc1.weight'], sd[p + 'mlp.fc1.bias']))
                return F.conv2d(t, sd[p + 'mlp.fc2.weight'], sd[p + 'mlp.fc2.bias'])

            if post_norm:
                x = x + sd[p + 'gamma1'][:, None, None] * ln2d(hco(x), sd, p + 'norm1')
                x = x + sd[p + 'gamma2'][:, None, None] * ln2d(mlp(x), sd, p + 'norm2')
            else:
                x = x + hco(ln2d(x, sd, p + 'norm1'))
                x = x + mlp(ln2d(x, sd, p + 'norm2'))
        outs.append(ln2d(x, sd, f'outnorm{s}') if outnorm else x)
        if s < len(DEPTHS) - 1:
            x = ln2d(F.conv2d(x, sd[f'layers.{s}.{depth}.0.weight'], stride=2, padding=1), sd, f'layers.{s}.{depth}.1')
    return outs


def arch(post_norm=True, rs=False):
    return dict(embed_dims=DIM, depths=DEPTHS, post_norm=post_norm, layer_scale=1e-5 if post_norm else None,
                spatial_correction=rs)


@pytest.mark.parametrize('post_norm', [True, False])
def test_vheat_classification_release(post_norm):
    g = torch.Generator().manual_seed(0)
    sd = official_state(g, post_norm=post_norm)
    if not post_norm:
        sd = {k: v for k, v in sd.items() if 'gamma' not in k}
    model = RSvHeat(arch(post_norm), img_size=64).eval()
    converted, dropped = convert_rs_vheat({'model': sd})
    assert dropped == ['classifier.0.bias', 'classifier.0.weight', 'classifier.3.bias', 'classifier.3.weight']
    result = model.load_state_dict(converted, strict=False)
    assert not result.unexpected_keys
    assert result.missing_keys and all(VHEAT_CLS_MISSING.match(k) for k in result.missing_keys)
    for s in range(4):  # identity out-norms, so the stage outputs are comparable
        getattr(model, f'outnorm{s}').weight.data.fill_(1)
        getattr(model, f'outnorm{s}').bias.data.zero_()
    x = torch.randn(2, 3, 64, 80)  # non-square and not the design size: FVE resized at run time
    ref = official_forward(sd, x, post_norm, outnorm=None)
    ref = [F.layer_norm(r.permute(0, 2, 3, 1), (r.shape[1], )).permute(0, 3, 1, 2) for r in ref]
    with torch.no_grad():
        ours = model(x)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-4)


def test_vheat_dense_checkpoint_loads_strictly():
    g = torch.Generator().manual_seed(1)
    sd = official_state(g)
    for s in range(4):
        sd[f'outnorm{s}.weight'], sd[f'outnorm{s}.bias'] = 1 + torch.randn(DIM * 2**s) * 0.1, torch.randn(DIM * 2**s) * 0.1
    det = {'state_dict': {'backbone.' + k: v for k, v in sd.items()}}
    det['state_dict']['roi_head.bbox_head.fc_cls.weight'] = torch.zeros(2, 2)
    model = RSvHeat(arch(), img_size=64).eval()
    converted, dropped = convert_rs_vheat(det)
    model.load_state_dict(converted, strict=True)
    assert dropped == ['backbone.classifier.0.bias', 'backbone.classifier.0.weight', 'backbone.classifier.3.bias',
                       'backbone.classifier.3.weight', 'roi_head.bbox_head.fc_cls.weight']
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(model(x), official_forward(sd, x, outnorm=True)):
            torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize('modality', ['opt', 'sar', None])
def test_rs_vheat_pretraining_checkpoint(modality):
    g = torch.Generator().manual_seed(2)
    sd = official_state(g, rs=True, img=64, stems=('_opt', '_sar'))
    ckpt = {'model': {'encoder.' + k: v for k, v in sd.items()}}
    ckpt['model']['encoder.fuse_frequency.0.weight'] = torch.zeros(3)
    ckpt['model']['decoder_spa.0.weight'] = torch.zeros(3)
    in_ch = {'opt': 3, 'sar': 1, None: dict(opt=3, sar=1)}[modality]
    # A downstream model at another design size: FVE/SCE are resized when loaded.
    model = RSvHeat(arch(rs=True), in_channels=in_ch, img_size=96).eval()
    converted, dropped = convert_rs_vheat(ckpt, modality)
    assert 'decoder_spa.0.weight' in dropped and 'encoder.fuse_frequency.0.weight' in dropped
    assert any(k.startswith('encoder.patch_embed_sar.') for k in dropped) == (modality == 'opt')
    result = model.load_state_dict(converted, strict=False)
    assert not result.unexpected_keys and all(VHEAT_CLS_MISSING.match(k) for k in result.missing_keys)
    assert model.freq_embed[0].shape == (24, 24, DIM) and model.heat_capacity[3].shape == (3, 3, DIM * 8)
    for s in range(4):
        getattr(model, f'outnorm{s}').weight.data.fill_(1)
        getattr(model, f'outnorm{s}').bias.data.zero_()
    x = torch.randn(1, 1 if modality == 'sar' else 3, 64, 64)
    with torch.no_grad():
        ours = model(x, modality=modality or 'opt')
    # the reference reads the checkpoint's own 16x16 grids, resized at run time: same values at
    # this input size only if resizing commutes; compare against the resized-on-load weights instead
    loaded = {k: v for k, v in model.state_dict().items()}
    ref_sd = dict(sd)
    for s in range(4):
        ref_sd[f'freq_embed.{s}'] = loaded[f'freq_embed.{s}']
        ref_sd[f'heat_capacity.{s}'] = loaded[f'heat_capacity.{s}']
    ref = official_forward(ref_sd, x, rs=True, stem=f'_{modality or "opt"}')
    for a, b in zip(ours, ref):
        b = F.layer_norm(b.permute(0, 2, 3, 1), (b.shape[1], )).permute(0, 3, 1, 2)
        torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-4)


def test_converter_errors():
    with pytest.raises(KeyError, match="no heat conduction blocks.*expected an official vHeat checkpoint"):
        convert_rs_vheat({'model': {'layers.0.0.norm1.weight': torch.zeros(1)}})
    with pytest.raises(KeyError, match="no heat conduction blocks.*expected an official vHeat checkpoint"):
        convert_rs_vheat({'model': {'encoder.blocks.0.attn.qkv.weight': torch.zeros(1)}})  # a ViT's encoder
    rs = {'encoder.' + k: v for k, v in official_state(torch.Generator().manual_seed(0), stems=('_opt', )).items()}
    with pytest.raises(KeyError, match=r"modality 'sar' has no stem"):
        convert_rs_vheat({'model': rs}, 'sar')
    with pytest.raises(KeyError, match=r"modality 'sar': a vHeat checkpoint has one optical stem"):
        convert_rs_vheat({'model': official_state(torch.Generator().manual_seed(0))}, 'sar')
    with pytest.raises(ValueError, match='inference-mode'):
        convert_rs_vheat({'model': {'layers.0.0.op.k_exp': torch.zeros(1)}})


def test_cli_round_trip(tmp_path):
    g = torch.Generator().manual_seed(3)
    src, dst = str(tmp_path / 'vHeat_tiny.pth'), str(tmp_path / 'out.pth')
    torch.save({'model': official_state(g)}, src)
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    proc = subprocess.run([sys.executable, osp.join(repo, 'tools/model_converters/rs_vheat2mmrsfm.py'), src, dst],
                          check=True, capture_output=True, text=True)
    assert 'dropped 4 source keys' in proc.stdout and 'classifier.3.weight' in proc.stdout
    model = RSvHeat(arch(), img_size=64)
    model.init_cfg = dict(type='Pretrained', checkpoint=dst)
    model.init_weights()  # mmengine's Pretrained loader, as a config's init_cfg does
    torch.testing.assert_close(model.layers[2][0].op.to_k[0].weight,
                               official_state(torch.Generator().manual_seed(3))['layers.2.0.op.to_k.0.weight'])
