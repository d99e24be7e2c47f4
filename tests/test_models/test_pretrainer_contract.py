"""Every pretrainer follows :class:`~mmrsfm.models.pretrainers.BasePretrainer`'s contract: the same
method names and decoder-width argument, and the same ``loss`` / ``predict`` / ``tensor`` outputs.

Pretrainers are discovered (exported from ``mmrsfm.models.pretrainers`` or registered in MODELS), so
a new one fails here until it has a tiny case in ``CASES``."""
import inspect
from typing import Callable, Dict, List, Tuple

import pytest
import torch
from mmengine.structures import BaseDataElement

import mmrsfm.models.pretrainers as pretrainers
from mmrsfm.models.pretrainers import BasePretrainer
from mmrsfm.registry import MODELS

BATCH = 2


def discover() -> Dict[str, type]:
    found = {c.__name__: c for _, c in inspect.getmembers(pretrainers, inspect.isclass)}
    found.update(MODELS.module_dict)
    return {n: c for n, c in found.items()
            if inspect.isclass(c) and issubclass(c, BasePretrainer) and not inspect.isabstract(c)}


def images(bands: int, size: int, dtype=torch.uint8) -> torch.Tensor:
    return torch.randint(0, 255, (bands, size, size), dtype=torch.uint8).to(dtype)


def mae() -> Tuple[BasePretrainer, List[dict]]:
    model = MODELS.build(dict(
        type='mmrsfm.MAEPretrainer',
        backbone=dict(type='mmrsfm.ScalableViT', arch=dict(embed_dims=32, num_layers=1, num_heads=2,
                                                          feedforward_channels=64),
                      img_size=32, patch_size=8, window_size=0),
        decoder_embed_dims=16, decoder_depth=1, decoder_num_heads=2,
        data_preprocessor=dict(type='mmrsfm.MultiModalDataPreprocessor', mean=dict(opt=[127.5] * 3),
                               std=dict(opt=[64.] * 3))))
    return model, [dict(opt=images(3, 32)) for _ in range(BATCH)]


def spectral_mae() -> Tuple[BasePretrainer, List[torch.Tensor]]:
    model = MODELS.build(dict(
        type='mmrsfm.SpectralMAE',
        backbone=dict(type='mmrsfm.SpectralGPT', arch=dict(embed_dims=32, num_layers=1, num_heads=2,
                                                          feedforward_channels=64),
                      in_channels=6, img_size=32),
        decoder_embed_dims=16, decoder_depth=1, decoder_num_heads=2, minmax_norm=True))
    return model, [images(6, 32, torch.float32) for _ in range(BATCH)]


def frequency_mask() -> Tuple[BasePretrainer, List[dict]]:
    model = MODELS.build(dict(
        type='mmrsfm.FrequencyMaskPretrainer',
        backbone=dict(type='mmrsfm.RSvHeat', arch=dict(embed_dims=8, depths=(1, 1, 1, 1), post_norm=True,
                                                        layer_scale=1e-5, spatial_correction=True),
                      in_channels=dict(opt=3, sar=1), img_size=32, out_indices=(2, 3)),
        in_channels=dict(opt=3, sar=1), decoder_embed_dims=16, proj_dim=8,
        data_preprocessor=dict(type='mmrsfm.MultiModalDataPreprocessor',
                               mean=dict(opt=[127.5] * 3, sar=[127.5]), std=dict(opt=[64.] * 3, sar=[64.]))))
    return model, [dict(opt=images(3, 32), sar=images(1, 32)) for _ in range(BATCH)]


# A tiny model and a raw batch (before the data preprocessor) per pretrainer.
CASES: Dict[str, Callable[[], Tuple[BasePretrainer, list]]] = dict(
    MAEPretrainer=mae, SpectralMAE=spectral_mae, FrequencyMaskPretrainer=frequency_mask)
CONTRACT = ('forward_encoder', 'forward_decoder', 'forward_loss', 'loss', 'predict', '_forward')
PRE_CONTRACT_NAMES = ('encode', 'decode', 'reconstruct', 'reconstruction_loss', 'mask')


def test_every_pretrainer_has_a_case():
    found = discover()
    assert {'MAEPretrainer', 'SpectralMAE', 'FrequencyMaskPretrainer'} <= set(found)
    missing = set(found) - set(CASES)
    assert not missing, f'add a tiny case to CASES for {sorted(missing)}'


def build(name: str, training: bool):
    torch.manual_seed(0)
    model, inputs = CASES[name]()
    model.init_weights()
    model.train(training)
    metas = [dict(img_path=f'img_{i}.tif') for i in range(BATCH)]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=metas), training)
    return model, data, metas


def input_shapes(inputs) -> Dict[str, Tuple[int, ...]]:
    """``{modality or None: (C, H, W)}`` of a preprocessed batch."""
    if isinstance(inputs, dict):
        return {m: tuple(x.shape[1:]) for m, x in inputs.items()}
    x = torch.stack(list(inputs)) if isinstance(inputs, (list, tuple)) else inputs
    return {None: tuple(x.shape[1:])}


@pytest.mark.parametrize('name', sorted(CASES))
def test_method_names_and_decoder_width_argument(name):
    cls = discover()[name]
    for method in CONTRACT:
        assert getattr(cls, method) is not getattr(BasePretrainer, method), f'{name} does not implement {method}'
    assert cls.forward is BasePretrainer.forward  # one dispatch for all
    assert not [m for m in PRE_CONTRACT_NAMES if hasattr(cls, m)]
    assert 'decoder_embed_dims' in inspect.signature(cls).parameters


@pytest.mark.parametrize('name', sorted(CASES))
def test_loss_mode(name):
    model, data, _ = build(name, training=True)
    losses = model(**data, mode='loss')
    assert isinstance(losses, dict) and losses and all(k.startswith('loss') for k in losses)
    for key, value in losses.items():
        assert isinstance(value, torch.Tensor) and value.ndim == 0 and torch.isfinite(value), key
        assert value.requires_grad, key
    total, _ = model.parse_losses(losses)
    total.backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    assert all(g is None or torch.isfinite(g).all() for g in grads.values())
    for part in ('backbone.', ''):  # the encoder, and the pretrainer's own (decoder) modules
        names = [n for n in grads if n.startswith(part) and (part or not n.startswith('backbone.'))]
        assert any(grads[n] is not None and grads[n].abs().sum() > 0 for n in names), (name, part or 'decoder')


@pytest.mark.parametrize('name', sorted(CASES))
def test_predict_mode(name):
    model, data, metas = build(name, training=False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    shapes = input_shapes(data['inputs'])
    assert isinstance(out, list) and len(out) == BATCH * len(shapes)
    for k, sample in enumerate(out):
        assert isinstance(sample, BaseDataElement)
        modality = list(shapes)[k // BATCH]
        assert sample.modality == modality and sample.img_path == metas[k % BATCH]['img_path']
        assert sample.mask_domain in ('pixel', 'dct')
        c, h, w = shapes[modality]
        assert sample.pred.shape == sample.target.shape == (c, h, w)
        assert sample.mask.shape in ((1, h, w), (c, h, w))
        assert set(sample.mask.unique().tolist()) == {0., 1.}  # binary, something hidden and something shown
        assert torch.isfinite(sample.pred).all() and torch.isfinite(sample.target).all()


@pytest.mark.parametrize('name', sorted(CASES))
def test_tensor_mode_and_unknown_mode(name):
    model, data, _ = build(name, training=False)
    with torch.no_grad():
        raw = model(**data, mode='tensor')
    tensors = list(raw.values()) if isinstance(raw, dict) else [raw]
    assert tensors and all(isinstance(t, torch.Tensor) and t.shape[0] == BATCH and torch.isfinite(t).all()
                           for t in tensors)
    with pytest.raises(ValueError, match=f"{name}: mode must be one of .*'loss'.*got 'features'"):
        model(**data, mode='features')


def test_predict_format_is_checked():
    pred = torch.zeros(2, 3, 4, 4)
    with pytest.raises(ValueError, match='mask must be'):
        BasePretrainer.pack_predictions(pred, pred, torch.zeros(2, 2, 4, 4))
    with pytest.raises(ValueError, match='mask_domain'):
        BasePretrainer.pack_predictions(pred, pred, pred, mask_domain='token')
    with pytest.raises(ValueError, match='pred and target'):
        BasePretrainer.pack_predictions(pred, pred[:, :1], pred)
