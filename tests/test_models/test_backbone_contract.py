"""One contract for every registered backbone: ``arch`` tables, ``out_indices`` normalisation,
``out_channels``, ``frozen_stages`` and ``get_layer_depth``. A new backbone exported from
``mmrsfm.models.backbones`` must get an entry in ``TINY`` (the sweep fails otherwise)."""
import pytest
import torch

import mmrsfm.models.backbones as backbones

#: Deprecated aliases: the same class under an old name, covered by its new name.
ALIASES = {'HeatConductionNet'}

#: name -> (tiny build kwargs, input (bands, H, W), number of out_indices units)
TINY = {
    'RSvHeat': (dict(arch=dict(embed_dims=8, depths=(1, 1, 2, 1), post_norm=True, layer_scale=1e-5,
                               spatial_correction=True), img_size=32), (3, 32, 32), 4),
    'MultiModalRSvHeat': (dict(arch=dict(embed_dims=8, depths=(1, 1, 2, 1), post_norm=True, layer_scale=1e-5,
                                         spatial_correction=True), in_channels=dict(opt=3, sar=1), fusion='gated',
                               img_size=32), (4, 32, 32), 4),
    'ScalableViT': (dict(arch=dict(embed_dims=16, num_layers=4, num_heads=2, feedforward_channels=32),
                         img_size=32, window_size=1), (3, 32, 32), 4),
    'SpectralGPT': (dict(arch=dict(embed_dims=16, num_layers=4, num_heads=2, feedforward_channels=32),
                         in_channels=6, img_size=16, out_type='featmap'), (6, 16, 16), 4),
    'RSMamba': (dict(arch=dict(embed_dims=16, num_layers=4, feedforward_channels=32), img_size=32,
                     scan_impl='chunked'), (3, 32, 32), 4),
}
NAMES = sorted(set(backbones.__all__) - ALIASES)


def build(name: str, **kw):
    cfg, _, _ = TINY[name]
    torch.manual_seed(0)
    return getattr(backbones, name)(**{**cfg, **kw})


def test_every_backbone_is_swept():
    assert NAMES and set(NAMES) == set(TINY), f'add a TINY entry for {set(NAMES) ^ set(TINY)}'


@pytest.mark.parametrize('name', NAMES)
def test_arch_table(name):
    cls = getattr(backbones, name)
    assert cls.arch_zoo and cls.essential_keys
    for arch, settings in cls.arch_zoo.items():
        assert arch == arch.lower() and cls.essential_keys <= set(settings), arch
    custom = dict(TINY[name][0]['arch'])
    missing = sorted(cls.essential_keys)[0]
    del custom[missing]
    with pytest.raises(ValueError, match=f"misses.*'{missing}'"):
        build(name, arch=custom)
    with pytest.raises(ValueError, match="arch 'no-such-arch' is not one of"):
        build(name, arch='no-such-arch')
    model = build(name)
    assert isinstance(model.embed_dims, int) and model.arch_settings['embed_dims'] == model.embed_dims


@pytest.mark.parametrize('name', NAMES)
def test_out_indices_and_out_channels(name):
    _, (bands, h, w), units = TINY[name]
    requested = [-1, 0, -1]
    model = build(name, out_indices=requested).eval()
    assert requested == [-1, 0, -1]  # the caller's list is not touched
    assert model.out_indices == (0, units - 1)
    with torch.no_grad():
        outs = model(torch.randn(2, bands, h, w))
    assert isinstance(outs, tuple) and len(outs) == len(model.out_channels) == 2
    for out, channels in zip(outs, model.out_channels):
        assert out.dim() == 4 and out.shape[:2] == (2, channels)
    for bad in (units, -units - 1):
        with pytest.raises(ValueError, match=f'out_indices .*{bad}'):
            build(name, out_indices=(bad, ))


def _frozen(model) -> set:
    return {n for n, p in model.named_parameters() if not p.requires_grad}


@pytest.mark.parametrize('name', NAMES)
def test_frozen_stages_freeze_a_leading_prefix(name):
    always = _frozen(build(name, frozen_stages=-1))  # e.g. SpectralGPT's unused final norm
    depth = build(name).get_layer_depth
    newly = {}
    for k in (0, 1, 2):
        model = build(name, frozen_stages=k).train()
        newly[k] = _frozen(model) - always
        trainable = {n for n, _ in model.named_parameters()} - _frozen(model)
        assert newly[k] and trainable, f'frozen_stages={k} froze nothing or everything'
        # what is frozen is a prefix of the network in layer-decay order ...
        assert max(depth(n)[0] for n in newly[k]) <= min(depth(n)[0] for n in trainable - always)
        # ... and the frozen modules stay in eval mode (norm statistics, dropout) after train()
        for n in newly[k]:
            owner = model.get_submodule(n.rsplit('.', 1)[0]) if '.' in n else model
            if owner is not model and not isinstance(owner, torch.nn.ParameterList):
                assert not owner.training, n
    assert newly[0] < newly[1] < newly[2]


@pytest.mark.parametrize('name', NAMES)
def test_get_layer_depth(name):
    model = build(name)
    ids = {}
    for n, _ in model.named_parameters():
        layer_id, total = model.get_layer_depth(f'backbone.{n}', 'backbone.')
        assert isinstance(layer_id, int) and 0 <= layer_id < total
        ids[n] = (layer_id, total)
    assert len({t for _, t in ids.values()}) == 1
    first = next(iter(ids))  # the stem is registered first in every family
    assert ids[first][0] == 0
    assert model.get_layer_depth('head.fc.weight', 'backbone.')[0] == ids[first][1] - 1  # outside: last
    assert len({i for i, _ in ids.values()}) >= 4  # blocks really get their own ids
