"""RSMamba (RS4D backbone), its converter and the LayerAggregator neck: parameter counts on meta, official
state-dict keys, equality with a transcription of the official forward (every path type) built on a
transcription of HF ``MambaMixer``'s slow path, shapes for any size and band count, gradients,
checkpointing, freezing, position-embedding and band adaptation, layer depths, conversion."""
from typing import Dict

import pytest
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.optim import build_optim_wrapper
from torch import nn

from mmrsfm.models.backbones.rsmamba import PATH_TYPES, MambaMixer, RSMamba
from mmrsfm.models.layers.pos_embed import resize_pos_embed_grid
from mmrsfm.models.necks import LayerAggregator, SimpleFPN
from mmrsfm.models.converters import convert_rs4d
from mmrsfm.registry import MODELS

TINY = dict(embed_dims=32, num_layers=3, feedforward_channels=64, dt_rank=4)


def build(arch=TINY, **kw) -> RSMamba:
    torch.manual_seed(0)
    kw.setdefault('img_size', 64)
    model = RSMamba(arch, **kw)
    model.init_weights()
    with torch.no_grad():  # larger, varied SSM parameters than the init, so every term matters
        for layer in model.layers:
            layer.A_log.uniform_(-1, 2)
            layer.D.normal_()
            layer.dt_proj.bias.normal_(0, 1)
    return model


# -- transcriptions of the official code ----------------------------------------------------------


def hf_mixer_slow(m: MambaMixer, h: torch.Tensor) -> torch.Tensor:
    """HuggingFace ``MambaMixer.slow_forward`` (no cache), line by line, in its (B, D, L) layout."""
    seq_len = h.shape[1]
    projected = m.in_proj(h).transpose(1, 2)  # (B, 2D, L)
    x, gate = projected.chunk(2, dim=1)
    x = F.silu(m.conv1d(x)[..., :seq_len])  # conv1d has padding=K-1
    ssm_params = m.x_proj(x.transpose(1, 2))
    time_step, b, c = torch.split(ssm_params, [m.dt_rank, m.state_size, m.state_size], dim=-1)
    dt = F.softplus(m.dt_proj(time_step)).transpose(1, 2)  # (B, D, L)
    a = -torch.exp(m.A_log.float())
    discrete_a = torch.exp(a[None, :, None, :] * dt[:, :, :, None])
    delta_b_u = dt[:, :, :, None] * b[:, None, :, :].float() * x[:, :, :, None].float()
    state = torch.zeros(h.shape[0], m.d_inner, m.state_size)
    outs = []
    for i in range(seq_len):
        state = discrete_a[:, :, i, :] * state + delta_b_u[:, :, i, :]
        outs.append(torch.matmul(state, c[:, i, :].unsqueeze(-1))[:, :, 0])
    y = torch.stack(outs, dim=-1) + x * m.D[None, :, None]
    return m.out_proj((y * F.silu(gate)).transpose(1, 2))


def official_forward(model: RSMamba, x: torch.Tensor, seed: int = 0):
    """The official ``RSMamba.forward`` (``out_type='featmap'``, no cls token) on our parameters, with
    ``hf_mixer_slow`` for every ``MambaMixer`` call. Inputs must be multiples of 16 at ``img_size``."""
    torch.manual_seed(seed)  # the shuffle paths draw one randperm per layer, as ours
    b = x.shape[0]
    x = model.patch_embed.projection(x)
    hw = x.shape[-2:]
    x = x.flatten(2).transpose(1, 2) + model.pos_embed
    outs, path = [], model.path_type
    for i, layer in enumerate(model.layers):
        residual = x
        if path == 'forward':
            x = hf_mixer_slow(layer, model.pre_norm(x))
        else:
            inputs = [x, torch.flip(x, [1])]
            if 'shuffle' in path:
                rand_index = torch.randperm(x.size(1))
                inputs.append(x[:, rand_index])
            ys = torch.split(hf_mixer_slow(layer, model.pre_norm(torch.cat(inputs, 0))), b, dim=0)
            f, r = ys[0], torch.flip(ys[1], [1])
            paths = [f, r]
            if 'shuffle' in path:
                paths.append(ys[2][:, torch.argsort(rand_index)])
            if 'gate' in path:
                gate = model.gate_layers[i](torch.cat([p.mean(1) for p in paths], -1)).unsqueeze(-1)
                x = sum(gate[:, k:k + 1] * p for k, p in enumerate(paths))
            else:
                x = sum(paths) / len(paths)
        x = residual + x
        if i == len(model.layers) - 1 and model.ln1 is not None:
            x = model.ln1(x)
        if i in model.out_indices:
            outs.append(x.reshape(b, *hw, -1).permute(0, 3, 1, 2))
    return tuple(outs)


def official_state_dict(arch: dict, num_tokens: int, bands: int = 3, gate_paths: int = 0) -> Dict[str, torch.Tensor]:
    """Random tensors under the official RSMamba key names and shapes (HF MambaMixer per layer)."""
    c, di, n, r, k = arch['embed_dims'], arch['feedforward_channels'], 16, arch['dt_rank'], 4
    g = torch.Generator().manual_seed(3)
    sd = {'patch_embed.projection.weight': torch.randn(c, bands, 16, 16, generator=g) * 0.05,
          'pos_embed': torch.randn(1, num_tokens, c, generator=g) * 0.02}
    for i in range(arch['num_layers']):
        shapes = {'A_log': (di, n), 'D': (di, ), 'in_proj.weight': (2 * di, c), 'conv1d.weight': (di, 1, k),
                  'conv1d.bias': (di, ), 'x_proj.weight': (r + 2 * n, di), 'dt_proj.weight': (di, r),
                  'dt_proj.bias': (di, ), 'out_proj.weight': (c, di)}
        for name, shape in shapes.items():
            sd[f'layers.{i}.{name}'] = torch.randn(*shape, generator=g) * 0.2
        if gate_paths:
            sd[f'gate_layers.{i}.0.weight'] = torch.randn(gate_paths, gate_paths * c, generator=g) * 0.1
    for norm in ('pre_norm', 'ln1', 'ln2'):  # ln2: the official default out_type='avg_featmap' builds it
        sd[f'{norm}.weight'] = 1 + 0.1 * torch.randn(c, generator=g)
        sd[f'{norm}.bias'] = 0.1 * torch.randn(c, generator=g)
    return sd


# -- architecture ---------------------------------------------------------------------------------


@pytest.mark.parametrize('arch, exact, reference', [
    ('small', 8_250_368, 8.3e6),
    ('base', 11_752_448, 11.8e6),
    ('large', 16_567_808, 16.6e6),
    ('huge', 18_756_608, 18.8e6),
    ('uhuge2', 27_511_808, 27.5e6),
])
def test_arch_zoo_parameter_counts_on_meta(arch, exact, reference):
    """Within 1% of the counts from the official RS4D arch_zoo shapes; the exact value pins the docstring."""
    model = RSMamba(arch, device='meta')
    n = sum(p.numel() for p in model.parameters())
    assert n == exact
    assert abs(n / reference - 1) < 0.01


def test_state_dict_keys_are_the_official_ones():
    model = RSMamba('base', device='meta')
    expected = official_state_dict(dict(embed_dims=256, num_layers=24, feedforward_channels=512, dt_rank=16), 4096)
    expected.pop('ln2.weight'), expected.pop('ln2.bias')
    got = model.state_dict()
    assert set(got) == set(expected)
    assert all(got[k].shape == v.shape for k, v in expected.items())
    gated = RSMamba(TINY, img_size=64, path_type='forward_reverse_shuffle_gate', device='meta')
    assert gated.gate_layers[2][0].weight.shape == (3, 96)


def test_arch_validation_and_registry():
    assert RSMamba.arch_zoo['b'] is RSMamba.arch_zoo['base']
    with pytest.raises(ValueError, match='misses'):
        RSMamba(dict(embed_dims=32, num_layers=2))
    with pytest.raises(ValueError, match='path_type'):
        RSMamba(TINY, path_type='shuffle')
    with pytest.raises(ValueError, match='out_indices'):
        RSMamba(TINY, out_indices=(3, ))
    model = MODELS.build(dict(type='mmrsfm.RSMamba', arch=TINY, img_size=64, in_channels=4))
    assert isinstance(model, RSMamba) and model.input_bands == (4, ) and model.out_indices == (0, 1, 2)
    out_indices = [-1, 0]
    assert RSMamba(TINY, out_indices=out_indices).out_indices == (0, 2) and out_indices == [-1, 0]


# -- forward --------------------------------------------------------------------------------------


@pytest.mark.parametrize('path_type', PATH_TYPES)
def test_forward_equals_official_forward(path_type):
    """Every path type equals the official forward built on HF's slow MambaMixer (shared in/out projections,
    chunked scan and batched directions change nothing but rounding)."""
    model = build(path_type=path_type, img_size=(64, 48)).eval()  # the official code runs at img_size only
    x = torch.randn(2, 3, 64, 48)
    with torch.no_grad():
        torch.manual_seed(0)
        ours = model(x)
        ref = official_forward(model, x)
    assert len(ours) == len(ref) == 3
    for a, b in zip(ours, ref):
        assert a.shape == (2, 32, 4, 3)
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_mixer_forward_equals_hf_slow_path():
    model = build()
    h = torch.randn(2, 37, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.layers[1](h), hf_mixer_slow(model.layers[1], h), rtol=1e-5, atol=1e-5)


def test_norms_only_on_the_last_output():
    model = build(out_indices=(0, 2)).eval()  # ln1 keeps its initial affine (1, 0)
    with torch.no_grad():
        first, last = model(torch.randn(1, 3, 64, 64))
    # Every token of the last output has zero mean and unit variance over channels; the first is raw.
    mean, var = last.mean(1), last.var(1, unbiased=False)
    torch.testing.assert_close(mean, torch.zeros_like(mean), atol=1e-5, rtol=0)
    torch.testing.assert_close(var, torch.ones_like(var), atol=1e-3, rtol=0)
    assert (first.var(1, unbiased=False) - 1).abs().max() > 0.1
    assert build(final_norm=False).ln1 is None


@pytest.mark.parametrize('bands, size', [(1, (64, 64)), (4, (50, 70)), (13, (16, 112)), (3, (8, 8))])
def test_output_shapes_any_bands_and_size(bands, size):
    model = build(in_channels=bands, out_indices=(0, -1))
    outs = model(torch.randn(2, bands, *size))
    grid = (-(-size[0] // 16), -(-size[1] // 16))
    assert [o.shape for o in outs] == [(2, 32, *grid)] * 2
    with pytest.raises(ValueError, match='in_channels'):
        model(torch.randn(1, bands + 1, 32, 32))


def test_every_parameter_gets_a_gradient():
    for path_type in ('forward_reverse_mean', 'forward_reverse_shuffle_gate'):
        model = build(path_type=path_type).train()
        sum(o.float().pow(2).mean() for o in model(torch.randn(2, 3, 48, 64))).backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_checkpointing_gives_same_outputs_and_grads():
    x = torch.randn(2, 3, 64, 64)
    grads = []
    for with_cp in (False, True):
        model = build(with_cp=with_cp).train()
        out = model(x)
        sum(o.sum() for o in out).backward()
        grads.append((out, {n: p.grad.clone() for n, p in model.named_parameters()}))
    for a, b in zip(grads[0][0], grads[1][0]):
        torch.testing.assert_close(a, b)
    for name, g in grads[0][1].items():
        torch.testing.assert_close(g, grads[1][1][name], msg=name)


def test_frozen_stages():
    model = build(frozen_stages=2, path_type='forward_reverse_gate').train()
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert 'pos_embed' in frozen and 'patch_embed.projection.weight' in frozen and 'pre_norm.weight' in frozen
    assert {'layers.1.A_log', 'gate_layers.1.0.weight'} <= frozen
    assert not any(n.startswith(('layers.2.', 'gate_layers.2.', 'ln1.')) for n in frozen)
    assert not model.layers[0].training and model.layers[2].training
    embeddings_only = build(frozen_stages=0)
    assert {n for n, p in embeddings_only.named_parameters() if not p.requires_grad} == {
        'pos_embed', 'patch_embed.projection.weight'}
    everything = build(frozen_stages=3)
    assert not any(p.requires_grad for p in everything.parameters())


def test_bf16_autocast_forward_is_finite():
    model = build().eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        outs = model(torch.randn(1, 3, 64, 64))
    assert all(torch.isfinite(o.float()).all() for o in outs)


# -- checkpoints ----------------------------------------------------------------------------------


def test_pos_embed_resized_at_runtime_and_on_load_equally():
    small = build(img_size=64).eval()
    large = build(img_size=(96, 128)).eval()
    large.load_state_dict(small.state_dict(), strict=True)
    assert large.pos_embed.shape == (1, 48, 32)
    grid = small.pos_embed.reshape(1, 4, 4, 32)
    torch.testing.assert_close(large.pos_embed.data, resize_pos_embed_grid(grid, (6, 8)).flatten(1, 2))
    x = torch.randn(1, 3, 96, 128)
    with torch.no_grad():
        torch.testing.assert_close(small(x)[-1], large(x)[-1])


def test_stem_adapted_to_other_band_counts_on_load():
    rgb = build()
    ms = build(in_channels=5)
    ms.load_state_dict(rgb.state_dict(), strict=True)
    w = rgb.patch_embed.projection.weight
    torch.testing.assert_close(ms.patch_embed.projection.weight.data, w.mean(1, keepdim=True).repeat(1, 5, 1, 1) * 0.6)
    # A constant image gives the same tokens: 3 bands of 1 == 5 bands of 1.
    with torch.no_grad():
        torch.testing.assert_close(ms(torch.ones(1, 5, 64, 64))[-1], rgb(torch.ones(1, 3, 64, 64))[-1])


@pytest.mark.parametrize('wrap', ['bare', 'module', 'detector'])
def test_convert_official_checkpoint_loads_strictly_and_matches(wrap):
    """A state dict in the official layout (made from shapes) -> convert_rs4d -> strict load -> our forward
    equals the official forward on the same tensors."""
    arch = dict(TINY)
    sd = official_state_dict(arch, num_tokens=16)
    if wrap == 'module':
        ckpt = {f'module.{k}': v for k, v in sd.items()}
    elif wrap == 'detector':
        ckpt = {'state_dict': {**{f'backbone.{k}': v for k, v in sd.items()},
                               'neck.feature_aggregator.fusion_conv.0.weight': torch.zeros(1),
                               'roi_head.bbox_head.fc_cls.weight': torch.zeros(1)}, 'meta': {}}
    else:
        ckpt = sd
    converted, dropped = convert_rs4d(ckpt)
    assert any(k.endswith('ln2.weight') for k in dropped)
    assert wrap != 'detector' or 'roi_head.bbox_head.fc_cls.weight' in dropped
    model = RSMamba(arch, img_size=64).eval()
    model.load_state_dict(converted, strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(model(x), official_forward(model, x)):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    # Resized for another design size by the converter, or by the load hook: the same tensor.
    resized = convert_rs4d(ckpt, img_size=128)[0]['pos_embed']
    big = RSMamba(arch, img_size=128)
    big.load_state_dict(converted, strict=True)
    assert resized.shape == (1, 64, 32)
    torch.testing.assert_close(big.pos_embed.data, resized)
    with pytest.raises(KeyError, match='not an RS4D RSMamba checkpoint; expected an official RS4D checkpoint'):
        convert_rs4d({'state_dict': {'backbone.conv.weight': torch.zeros(1)}})


def test_converter_cli(tmp_path):
    import subprocess
    import sys
    src, dst = tmp_path / 'official.pth', tmp_path / 'ours.pth'
    torch.save({f'module.{k}': v for k, v in official_state_dict(dict(TINY), 16).items()}, src)
    proc = subprocess.run([sys.executable, 'tools/model_converters/rs4d2mmrsfm.py', str(src), str(dst)],
                          capture_output=True, text=True, cwd=__file__.rsplit('/tests/', 1)[0])
    assert proc.returncode == 0, proc.stderr
    assert 'dropped 2 source keys' in proc.stdout and 'module.ln2.weight' in proc.stdout
    out = torch.load(dst, map_location='cpu', weights_only=True)
    RSMamba(TINY, img_size=64).load_state_dict(out['state_dict'], strict=True)


def test_hf_mamba_mixer_equivalence():
    """Our mixer loads a HuggingFace MambaMixer's state dict as is and gives its outputs."""
    transformers = pytest.importorskip('transformers')
    from transformers.models.mamba.modeling_mamba import MambaMixer as HFMambaMixer
    config = transformers.MambaConfig(hidden_size=32, state_size=16, intermediate_size=64, conv_kernel=4,
                                      time_step_rank=4, use_conv_bias=True, hidden_act='silu', use_bias=False)
    hf = HFMambaMixer(config, 0).eval()
    ours = MambaMixer(32, 64, 16, 4, 4).eval()
    ours.load_state_dict(hf.state_dict(), strict=True)
    h = torch.randn(2, 29, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(h), hf(h), rtol=1e-5, atol=1e-5)


# -- layer-wise lr decay --------------------------------------------------------------------------


class Detector(BaseModel):

    def __init__(self):
        super().__init__()
        self.backbone = build(path_type='forward_reverse_gate')
        self.head = nn.Linear(32, 2)

    def forward(self, *args, **kwargs):
        raise NotImplementedError


def test_get_layer_depth_and_layer_decay_constructor():
    model = Detector()
    depth = model.backbone.get_layer_depth
    assert depth('backbone.patch_embed.projection.weight', 'backbone.') == (0, 5)
    assert depth('backbone.pos_embed', 'backbone.') == (0, 5)
    assert depth('backbone.pre_norm.weight', 'backbone.') == (0, 5)
    assert depth('backbone.layers.0.A_log', 'backbone.') == (1, 5)
    assert depth('backbone.gate_layers.2.0.weight', 'backbone.') == (3, 5)
    assert depth('backbone.ln1.bias', 'backbone.') == (4, 5)
    assert depth('head.weight', 'backbone.') == (4, 5)
    wrapper = build_optim_wrapper(model, dict(constructor='mmrsfm.LayerDecayOptimWrapperConstructor',
                                              optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
                                              paramwise_cfg=dict(decay_rate=0.5)))
    assert sum(len(g['params']) for g in wrapper.optimizer.param_groups) == len(list(model.parameters()))


# -- LayerAggregator ------------------------------------------------------------------------------


def official_aggregator(neck: LayerAggregator, inputs):
    """The official RSFeatureAggregator.forward on our module's parameters."""
    features = [neck.downconvs[k](inputs[i]) for k, i in enumerate(neck.layer_indices)]
    x = None
    for hidden_state, hidden_conv in zip(features, neck.hidden_convs):
        if x is not None:
            hidden_state = x + hidden_state
        residual = hidden_conv(hidden_state)
        x = hidden_state + residual
    return neck.fusion_conv(x)


def test_layer_aggregator_matches_official_and_feeds_simple_fpn():
    torch.manual_seed(0)
    neck = LayerAggregator(32, layer_indices=range(1, 24, 2), hidden_channels=8, out_channels=16).eval()
    inputs = tuple(torch.randn(2, 32, 6, 5) for _ in range(24))
    with torch.no_grad():
        out = neck(inputs)
        assert isinstance(out, tuple) and len(out) == 1 and out[0].shape == (2, 16, 6, 5)
        torch.testing.assert_close(out[0], official_aggregator(neck, inputs))
        keys = set(neck.state_dict())
        assert {'downconvs.11.0.weight', 'downconvs.11.4.running_mean', 'hidden_convs.0.1.weight',
                'fusion_conv.6.bias'} <= keys
        fpn = SimpleFPN(16, 16, num_outs=5).eval()
        levels = fpn(out)
    assert [lvl.shape[-2:] for lvl in levels] == [(24, 20), (12, 10), (6, 5), (3, 3), (2, 2)]  # strides 4-64
    with pytest.raises(ValueError, match='got 4 inputs'):
        neck(inputs[:4])
    per_layer = LayerAggregator([8, 16, 32], layer_indices=[0, -1], hidden_channels=4, out_channels=8)
    assert per_layer.downconvs[1][0].in_channels == 32
    with pytest.raises(ValueError, match='out of range'):
        LayerAggregator([8, 16], layer_indices=[2])


def test_backbone_aggregator_fpn_chain_trains():
    backbone = build(arch=dict(TINY, num_layers=4))
    neck = LayerAggregator(32, layer_indices=range(1, 4, 2), hidden_channels=8, out_channels=16)
    fpn = SimpleFPN(16, 16, num_outs=5)
    levels = fpn(neck(backbone(torch.randn(2, 3, 64, 64))))
    assert [lvl.shape for lvl in levels] == [(2, 16, 16, 16), (2, 16, 8, 8), (2, 16, 4, 4), (2, 16, 2, 2),
                                             (2, 16, 1, 1)]
    sum(lvl.mean() for lvl in levels).backward()
    assert all(p.grad is not None for p in backbone.layers[3].parameters())
