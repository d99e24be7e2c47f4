"""Drop-in: each mmrsfm backbone swapped into a stock config of each toolbox, inherited with ``::``,
exactly as the README's drop-in section shows (the snippets below are the README's). Every config is
loaded by mmengine, its model built and run on a small image; and the base's model-level
``pretrained`` (mmseg forwards it to the backbone) gives a clear error, not a ``TypeError``."""
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

#: The stock config of each toolbox a user inherits.
BASES = {
    'mmseg': 'mmseg::upernet/upernet_r50_4xb4-80k_ade20k-512x512.py',
    'mmdet': 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    'mmrotate': 'mmrotate::oriented_rcnn/oriented-rcnn-le90_r50_fpn_1x_dota.py',
}

#: README, "In your own mmdet / mmseg / mmrotate config": the model dict per backbone and toolbox.
#: mmseg: `pretrained=None` (mmseg's EncoderDecoder hands the base's 'open-mmlab://resnet50_v1c' to the
#: backbone), the UPerNet head and auxiliary head channels; mmdet / mmrotate: the FPN neck's channels.
DROP_IN = {
    ('mmseg', 'RSvHeat'): """
model = dict(
    pretrained=None,
    backbone=dict(_delete_=True, type='mmrsfm.RSvHeat', arch='rs-base', img_size=512, out_indices=(0, 1, 2, 3)),
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512))
""",
    ('mmseg', 'ScalableViT'): """
model = dict(
    pretrained=None,
    backbone=dict(_delete_=True, type='mmrsfm.ScalableViT', arch='86m', img_size=512, out_indices=(-1, ),
                  use_rel_pos=True),
    neck=dict(type='mmrsfm.SimpleFPN', in_channels=768, out_channels=256),
    decode_head=dict(in_channels=[256, 256, 256, 256]),
    auxiliary_head=dict(in_channels=256))
""",
    ('mmseg', 'SpectralGPT'): """
model = dict(
    pretrained=None,
    backbone=dict(_delete_=True, type='mmrsfm.SpectralGPT', arch='base', in_channels=3, img_size=512,
                  out_type='pyramid'))  # 4 maps of 256/512/1024/2048 channels: UPerNet's R-50 settings fit
""",
    ('mmseg', 'RSMamba'): """
model = dict(
    pretrained=None,
    backbone=dict(_delete_=True, type='mmrsfm.RSMamba', arch='base', img_size=512, out_indices=None),
    neck=[dict(type='mmrsfm.LayerAggregator', in_channels=256, layer_indices=list(range(1, 24, 2)), out_channels=256),
          dict(type='mmrsfm.SimpleFPN', in_channels=256, out_channels=256)],
    decode_head=dict(in_channels=[256, 256, 256, 256]),
    auxiliary_head=dict(in_channels=256))
""",
    ('det', 'RSvHeat'): """
model = dict(
    backbone=dict(_delete_=True, type='mmrsfm.RSvHeat', arch='rs-base', img_size=1024, out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[128, 256, 512, 1024]))
""",
    ('det', 'ScalableViT'): """
model = dict(
    backbone=dict(_delete_=True, type='mmrsfm.ScalableViT', arch='86m', img_size=1024, out_indices=(-1, ),
                  use_rel_pos=True),
    neck=dict(_delete_=True, type='mmrsfm.SimpleFPN', in_channels=768, out_channels=256, num_outs=5))
""",
    ('det', 'SpectralGPT'): """
model = dict(
    backbone=dict(_delete_=True, type='mmrsfm.SpectralGPT', arch='base', in_channels=3, img_size=1024,
                  out_type='featmap'),  # one stride-8 map
    neck=dict(_delete_=True, type='mmrsfm.SimpleFPN', in_channels=768, out_channels=256,
              scale_factors=(2.0, 1.0, 0.5), num_outs=5))  # strides 4, 8, 16 (+ 32, 64 pooled)
""",
    ('det', 'RSMamba'): """
model = dict(
    backbone=dict(_delete_=True, type='mmrsfm.RSMamba', arch='base', img_size=1024, out_indices=None),
    neck=[dict(type='mmrsfm.LayerAggregator', in_channels=256, layer_indices=list(range(1, 24, 2)), out_channels=256),
          dict(type='mmrsfm.SimpleFPN', in_channels=256, out_channels=256, num_outs=5)])
""",
}
HEADER = "_base_ = '{base}'\ncustom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)\n"
BACKBONES = ('RSvHeat', 'ScalableViT', 'SpectralGPT', 'RSMamba')


def drop_in_config(tmp_path, toolbox: str, backbone: str) -> Config:
    text = HEADER.format(base=BASES[toolbox]) + DROP_IN[('mmseg' if toolbox == 'mmseg' else 'det', backbone)]
    path = tmp_path / f'{toolbox}_{backbone}.py'
    path.write_text(text)
    return Config.fromfile(str(path))


def build(cfg: Config):
    init_default_scope(cfg.default_scope)
    from mmengine.registry import MODELS
    with warnings.catch_warnings():
        warnings.filterwarnings('error', message='.*is deprecated, use init_cfg', category=FutureWarning)
        return MODELS.build(cfg.model)


@pytest.mark.parametrize('backbone', BACKBONES)
@pytest.mark.parametrize('toolbox', list(BASES))
def test_backbone_drops_into_a_stock_config(tmp_path, toolbox, backbone):
    cfg = drop_in_config(tmp_path, toolbox, backbone)
    assert cfg.model.backbone.type == f'mmrsfm.{backbone}'
    assert 'depth' not in cfg.model.backbone and 'init_cfg' not in cfg.model.backbone  # _delete_ took the R-50 out
    torch.manual_seed(0)
    model = build(cfg).eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 64, 64))
    if toolbox == 'mmseg':
        widths = [256, 512, 1024, 2048] if backbone == 'SpectralGPT' else None
        assert len(feats) == 4 and (widths is None or [f.shape[1] for f in feats] == widths)
    else:  # FPN-style P2..P6 at strides 4..64, as the RPN's anchors expect
        assert [f.shape[-1] for f in feats] == [16, 8, 4, 2, 1] and {f.shape[1] for f in feats} == {256}


@pytest.mark.parametrize('backbone', BACKBONES)
def test_inherited_mmseg_pretrained_gets_a_clear_error(tmp_path, backbone):
    cfg = drop_in_config(tmp_path, 'mmseg', backbone)
    cfg.model.pretrained = 'open-mmlab://resnet50_v1c'  # what the base config says, without the README's line
    with pytest.raises(ValueError) as err:
        build(cfg)
    msg = str(err.value)
    assert f"{backbone} got pretrained='open-mmlab://resnet50_v1c': weights of another architecture" in msg
    assert 'Fix: set pretrained=None in your model dict' in msg and "type='mmrsfm." in msg


def test_model_level_pretrained_path_becomes_an_init_cfg_with_a_warning(tmp_path):
    from mmrsfm.models.utils.arch import pretrained_to_init_cfg
    with pytest.warns(FutureWarning, match=r"init_cfg=dict\(type='Pretrained', checkpoint='w\.pth'\)"):
        assert pretrained_to_init_cfg('w.pth', None, 'RSvHeat') == dict(type='Pretrained', checkpoint='w.pth')
    with pytest.raises(ValueError, match='got both pretrained'):
        pretrained_to_init_cfg('w.pth', dict(type='Pretrained', checkpoint='x.pth'), 'RSvHeat')
    assert pretrained_to_init_cfg(None, None, 'RSvHeat') is None
    # through mmseg's EncoderDecoder, as a user's `model = dict(pretrained='w.pth', ...)` reaches it
    cfg = drop_in_config(tmp_path, 'mmseg', 'RSvHeat')
    cfg.model.backbone.arch = dict(embed_dims=8, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None,
                                   spatial_correction=False)
    cfg.model.pretrained = str(tmp_path / 'w.pth')
    init_default_scope('mmseg')
    from mmengine.registry import MODELS
    with pytest.warns(FutureWarning):
        model = MODELS.build(cfg.model)
    assert model.backbone.init_cfg == dict(type='Pretrained', checkpoint=str(tmp_path / 'w.pth'))


def test_deprecated_backbone_name_takes_the_same_path(tmp_path):
    cfg = drop_in_config(tmp_path, 'mmseg', 'RSvHeat')
    cfg.model.backbone.type = 'mmrsfm.HeatConductionNet'
    cfg.model.pretrained = 'open-mmlab://resnet50_v1c'
    init_default_scope('mmseg')
    from mmengine.registry import MODELS
    with pytest.raises(ValueError, match="HeatConductionNet got pretrained='open-mmlab://resnet50_v1c'"):
        MODELS.build(cfg.model)
    assert osp.isfile(__file__)
