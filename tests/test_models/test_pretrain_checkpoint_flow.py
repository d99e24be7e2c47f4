"""A frequency-masking pretraining checkpoint (two stems, ``patch_embed_opt`` + ``patch_embed_sar``, saved
as mmengine saves it) reaches the shipped SAR / multi-modal downstream models through ``init_cfg`` only:
``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``, the pretrainer's backbone attribute.

Each downstream backbone must end up with exactly the checkpoint's weights, or their documented
adaptation: WHU-OPT-SAR fusion (both stems; the RGB stem's first conv adapted to the 4 optical bands),
the SAR-AIRcraft detector (1 band: the SAR stem as is) and AIR-PolSAR-Seg (4 bands: the SAR stem,
``checkpoint_stem='sar'``, its first conv adapted to 4 bands). The checkpoint is perturbed after
initialisation, so a weight left at its fresh initialisation cannot pass by accident.
"""
import os.path as osp
from typing import Dict

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmrsfm.models import FrequencyMaskPretrainer

from conftest import REPO

# Tiny RS-vHeat; the downstream configs are shrunk to the same arch and design size (no grid resizing).
ARCH = dict(embed_dims=16, depths=(1, 1, 1, 1), post_norm=True, layer_scale=1e-5, spatial_correction=True)
WIDTHS = [16, 32, 64, 128]
STEM_CONV = 'conv1.weight'  # the stem conv whose input bands are adapted


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> Dict[str, torch.Tensor]:
    """``{'path': file, **state_dict}`` of a paired optical (3) + SAR (1) pretrainer, saved as mmengine does."""
    torch.manual_seed(0)
    model = FrequencyMaskPretrainer(
        backbone=dict(type='mmrsfm.RSvHeat', arch=ARCH, in_channels=dict(opt=3, sar=1), img_size=32,
                      out_indices=(2, 3)),
        in_channels=dict(opt=3, sar=1), decoder_embed_dims=16, proj_dim=8)
    model.init_weights()
    state = {k: v + 0.1 * torch.randn_like(v) if v.is_floating_point() else v for k, v in model.state_dict().items()}
    assert any(k.startswith('backbone.patch_embed_opt.') for k in state)
    assert any(k.startswith('backbone.patch_embed_sar.') for k in state)
    path = str(tmp_path_factory.mktemp('pretrain') / 'epoch_200.pth')
    torch.save(dict(meta=dict(epoch=200), state_dict=state), path)
    return dict(state, path=path)


def _adapted(weight: torch.Tensor, bands: int) -> torch.Tensor:
    """The documented stem adaptation: mean kernel over the trained bands, times trained / bands."""
    return weight.mean(1, keepdim=True).repeat(1, bands, 1, 1) * (weight.shape[1] / bands)


def _shrink(cfg: Config, ckpt: str) -> Config:
    """The shipped config's backbone at the pretrainer's tiny arch, loading ``ckpt`` by ``init_cfg`` only."""
    cfg.model.backbone.update(arch=ARCH, img_size=32,
                              init_cfg=dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.'))
    return cfg


def _segmentor(cfg: Config) -> torch.nn.Module:
    """The shrunk UPerNet of ``cfg``, built and initialised (which loads the checkpoint)."""
    cfg.model.decode_head.update(in_channels=WIDTHS, channels=8)
    cfg.model.auxiliary_head.update(in_channels=WIDTHS[2], channels=8)
    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _check_loaded(backbone: torch.nn.Module, state: dict, stems: Dict[str, str], bands: Dict[str, int]) -> None:
    """Every backbone tensor equals the checkpoint's (stems renamed by ``stems``: model stem -> checkpoint
    stem), or its stem adaptation; every checkpoint tensor of a used stem and of the stages is loaded."""
    used = set()
    for key, value in backbone.state_dict().items():
        head, _, rest = key.partition('.')
        source = f'backbone.{stems.get(head, head)}.{rest}'
        # Downstream-only: the fusion layer, and output norms of stages the pretrainer does not output
        # (it reads stages 2 and 3, as configs/pretrain/rs_vheat does).
        if head == 'fusion' or (head.startswith('outnorm') and source not in state):
            continue
        assert source in state, f'{key}: no {source} in the checkpoint'
        expected = state[source]
        if rest == STEM_CONV and expected.shape[1] != bands[head]:
            expected = _adapted(expected, bands[head])
        torch.testing.assert_close(value, expected, msg=lambda m: f'{key} <- {source}: {m}')
        used.add(source)
    wanted = {k for k in state if k.startswith('backbone.') and
              (not k.startswith('backbone.patch_embed_') or k.split('.')[1] in stems.values())}
    assert wanted == used, f'not loaded: {sorted(wanted - used)}'


def test_whu_opt_sar_fusion_loads_both_stems(checkpoint):
    cfg = Config.fromfile(osp.join(REPO, 'configs/seg/upernet/upernet_rs-vheat-base_4xb4-80k_whu-opt-sar-512x512.py'))
    assert cfg.model.backbone.init_cfg.prefix == 'backbone.'  # the shipped prefix is the pretrainer's
    cfg = _shrink(cfg, checkpoint['path'])
    model = _segmentor(cfg)
    _check_loaded(model.backbone, checkpoint, stems={'patch_embed_opt': 'patch_embed_opt',
                                                     'patch_embed_sar': 'patch_embed_sar'},
                  bands={'patch_embed_opt': 4, 'patch_embed_sar': 1})


def test_sar_aircraft_detector_loads_the_sar_stem(checkpoint):
    cfg = Config.fromfile(osp.join(REPO, 'configs/det/faster_rcnn/faster-rcnn_rs-vheat-base_fpn_1xb2-1x_sar-aircraft'
                                         '-800x800.py'))
    assert cfg.model.backbone.in_channels == 1
    cfg = _shrink(cfg, checkpoint['path'])
    cfg.model.neck.update(in_channels=WIDTHS)
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    _check_loaded(model.backbone, checkpoint, stems={'patch_embed': 'patch_embed_sar'}, bands={'patch_embed': 1})


def test_air_polsar_seg_loads_the_sar_stem_adapted_to_four_bands(checkpoint, log_messages):
    cfg = Config.fromfile(osp.join(REPO, 'configs/seg/upernet/upernet_rs-vheat-base_4xb4-80k_air-polsar-seg-'
                                         '512x512.py'))
    assert cfg.model.backbone.in_channels == 4 and cfg.model.backbone.checkpoint_stem == 'sar'
    assert cfg.model.backbone.init_cfg.prefix == 'backbone.'
    cfg = _shrink(cfg, checkpoint['path'])
    model = _segmentor(cfg)
    _check_loaded(model.backbone, checkpoint, stems={'patch_embed': 'patch_embed_sar'}, bands={'patch_embed': 4})
    assert any('loaded stem patch_embed_sar' in m for m in log_messages)
    assert any('adapted to 4 bands' in m for m in log_messages)


def test_checkpoint_stem_must_exist(checkpoint):
    from mmrsfm.models import RSvHeat
    model = RSvHeat(ARCH, in_channels=4, img_size=32, checkpoint_stem='radar',
                    init_cfg=dict(type='Pretrained', checkpoint=checkpoint['path'], prefix='backbone.'))
    with pytest.raises(KeyError, match=r"checkpoint_stem='radar'.*patch_embed_opt.*patch_embed_sar.*Fix"):
        model.init_weights()


def test_missing_prefix_is_an_error_not_a_silent_no_op(checkpoint):
    """The shipped SAR-AIRcraft config expects a converted backbone-only checkpoint (no prefix); pointed at
    the pretrainer's checkpoint as is, mmengine's non-strict load would change nothing."""
    cfg = Config.fromfile(osp.join(REPO, 'configs/det/faster_rcnn/faster-rcnn_rs-vheat-base_fpn_1xb2-1x_sar-aircraft'
                                         '-800x800.py'))
    assert 'prefix' not in cfg.model.backbone.init_cfg
    cfg.model.backbone.update(arch=ARCH, img_size=32)
    cfg.model.backbone.init_cfg.checkpoint = checkpoint['path']
    from mmrsfm.models import RSvHeat
    model = RSvHeat(**{k: v for k, v in cfg.model.backbone.items() if k != 'type'})
    with pytest.raises(KeyError, match="start with 'backbone.'.*Fix: .*prefix='backbone.'"):
        model.init_weights()
