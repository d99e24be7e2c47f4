"""RS-vHeat frequency-masking pretrainer: masks, losses, training through tools/train.py, and the
checkpoint flowing into a downstream backbone through init_cfg."""
import os.path as osp
import re

import pytest
import torch

from mmrsfm.models import FrequencyMaskPretrainer, RSvHeat, sector_masks
from mmrsfm.models.layers import dct_2d

from conftest import REPO, run_tool

ARCH = dict(embed_dims=16, depths=(1, 1, 1, 1), post_norm=True, layer_scale=1e-5, spatial_correction=True)


def test_sector_masks_ratio_band_and_dc():
    g = torch.Generator().manual_seed(0)
    m = sector_masks(64, 32, 40, (0.25, 0.25), (0.3, 0.6), generator=g)
    assert m.shape == (64, 1, 32, 40) and set(m.unique().tolist()) <= {0.0, 1.0}
    assert (m[:, 0, 0, 0] == 0).all()  # DC kept
    frac = m.mean((1, 2, 3))
    assert frac.max() <= 0.2501  # exactly the ratio, or less when the chosen band is smaller
    assert (frac > 0.249).float().mean() > 0.5
    assert (frac > 0).all()


def test_dct_2d_round_trip():
    x = torch.randn(2, 3, 17, 24, dtype=torch.float64)
    torch.testing.assert_close(dct_2d(dct_2d(x), inverse=True), x)
    assert torch.allclose((dct_2d(x)**2).sum(), (x**2).sum())  # orthonormal: energy preserved


def build(modalities=dict(opt=3, sar=1)):
    torch.manual_seed(0)
    model = FrequencyMaskPretrainer(
        backbone=dict(type='mmrsfm.RSvHeat', arch=ARCH, in_channels=modalities, img_size=32,
                      out_indices=(2, 3)),
        in_channels=modalities, decoder_embed_dims=16, proj_dim=8)
    model.init_weights()
    return model


def test_paired_losses_and_gradients():
    model = build()
    batch = dict(inputs=[dict(opt=torch.randint(0, 255, (3, 40, 36), dtype=torch.uint8),
                              sar=torch.randint(0, 255, (1, 40, 36), dtype=torch.uint8)) for _ in range(2)])
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_spatial', 'loss_frequency', 'loss_contrastive'}
    sum(losses.values()).backward()
    for stem in ('patch_embed_opt', 'patch_embed_sar'):
        assert getattr(model.backbone, stem).conv1.weight.grad.abs().sum() > 0
    out = model(**data, mode='predict')  # one element per image, modality after modality
    assert [o.modality for o in out] == ['opt', 'opt', 'sar', 'sar']
    assert all(o.mask_domain == 'dct' and o.mask.shape == (1, 40, 36) for o in out)
    assert out[0].pred.shape == out[0].target.shape == (3, 40, 36) and out[2].pred.shape == (1, 40, 36)
    torch.testing.assert_close(out[3].target, data['inputs']['sar'][1])
    raw = model(**data, mode='tensor')
    assert raw['opt'].shape == (2, 3, 40, 36) and raw['sar'].shape == (2, 1, 40, 36)


def test_single_modality_has_no_contrastive_term():
    model = build(dict(sar=1))
    losses = model(dict(sar=torch.randn(2, 1, 32, 32)))
    assert set(losses) == {'loss_spatial', 'loss_frequency'}
    with pytest.raises(KeyError, match=r"modalities \['opt'\] without a decoder"):
        model(dict(opt=torch.randn(2, 3, 32, 32)))


def test_checkpoint_layout_and_deprecated_decoder_channels():
    model = build()
    assert model.stride == 16 and model.fuse[0].in_channels == 64 + 128  # stages 3 and 4 of width 16
    decoder = {k: tuple(v.shape) for k, v in model.state_dict().items() if not k.startswith('backbone.')}
    assert decoder == {'fuse.0.weight': (16, 192, 1, 1), 'fuse.0.bias': (16, ), 'decoders.opt.weight': (768, 16, 1, 1),
                       'decoders.opt.bias': (768, ), 'decoders.sar.weight': (256, 16, 1, 1),
                       'decoders.sar.bias': (256, ), 'proj.weight': (8, 128), 'proj.bias': (8, )}
    with pytest.warns(FutureWarning, match='decoder_embed_dims'):
        old = FrequencyMaskPretrainer(
            backbone=dict(type='mmrsfm.RSvHeat', arch=ARCH, in_channels=dict(opt=3), img_size=32, out_indices=(2, 3)),
            in_channels=dict(opt=3), decoder_channels=24)
    assert old.fuse[0].out_channels == 24


def test_multimodal_preprocessor_lives_in_data_preprocessors():
    from mmrsfm.models.data_preprocessors.multimodal import MultiModalDataPreprocessor
    from mmrsfm.models.pretrainers import MultiModalDataPreprocessor as old_import
    from mmrsfm.registry import MODELS
    assert old_import is MultiModalDataPreprocessor is MODELS.get('MultiModalDataPreprocessor')
    assert isinstance(build().data_preprocessor, MultiModalDataPreprocessor)


def test_any_multi_stage_backbone():
    """A backbone without per-modality stems, modality= or out_channels: mmdet's ResNet."""
    pytest.importorskip('mmdet')
    torch.manual_seed(0)
    model = FrequencyMaskPretrainer(
        backbone=dict(type='mmdet.ResNet', depth=18, base_channels=8, in_channels=3, out_indices=(1, 2),
                      norm_cfg=dict(type='BN')),
        in_channels=dict(opt=3), decoder_embed_dims=16, proj_dim=8)
    assert not model.takes_modality and model.stride == 8 and model.fuse[0].in_channels == 16 + 32
    x = torch.randn(2, 3, 36, 44)
    losses = model(dict(opt=x))
    assert set(losses) == {'loss_spatial', 'loss_frequency'}
    sum(losses.values()).backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        out = model(x, mode='predict')  # a plain tensor is the single modality's batch
    assert len(out) == 2 and out[0].pred.shape == (3, 36, 44) and out[0].modality == 'opt'
    with pytest.raises(ValueError, match='single stem'):
        FrequencyMaskPretrainer(backbone=dict(type='mmdet.ResNet', depth=18, out_indices=(2, 3)),
                                in_channels=dict(opt=3, sar=1))
    with pytest.raises(TypeError, match='at least two'):
        FrequencyMaskPretrainer(backbone=dict(type='mmdet.ResNet', depth=18, out_indices=(3, )),
                                in_channels=dict(opt=3))


@pytest.mark.e2e
def test_pretrain_with_train_py_then_load_downstream(tmp_path):
    from mmrsfm.datasets.synthetic import make_optical_sar_pairs
    data = str(tmp_path / 'optsar')
    make_optical_sar_pairs(data, num_train=8, size=48, seed=0)
    work = str(tmp_path / 'work')
    cfg = osp.join(REPO, 'tests/data/configs/freqmask_tiny_optsar-smoke.py')
    out = run_tool(['tools/train.py', cfg, '--work-dir', work, '--cfg-options',
                    f'train_dataloader.dataset.data_root={data}/']).stdout
    losses = [float(v) for v in re.findall(r'Iter\(train\) \[\s*\d+/40\].*?\bloss: ([\d.]+)', out)]
    assert len(losses) == 40 and all(l == l for l in losses)  # noqa: E741  (finite, no NaN)
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.8 * first, f'loss did not decrease: {first:.3f} -> {last:.3f}'

    # The saved checkpoint initialises a single-stem downstream backbone with no manual step.
    ckpt = osp.join(work, 'iter_40.pth')
    saved = torch.load(ckpt, weights_only=True)['state_dict']
    downstream = RSvHeat(ARCH, in_channels=3, img_size=64,
                                   init_cfg=dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.'))
    downstream.init_weights()
    torch.testing.assert_close(downstream.patch_embed.conv1.weight, saved['backbone.patch_embed_opt.conv1.weight'])
    torch.testing.assert_close(downstream.layers[3][0].op.to_k[0].weight,
                               saved['backbone.layers.3.0.op.to_k.0.weight'])
    assert downstream.freq_embed[0].shape == (16, 16, 16)  # resized from the 8x8 pretraining grid
