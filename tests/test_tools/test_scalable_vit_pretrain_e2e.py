"""MAE pretraining of a tiny ScalableViT through tools/train.py, and its checkpoint flowing into a
downstream UPerNet config (init_cfg prefix 'backbone.') and through the converter; the shipped
pretraining configs (plain / FSDP / DeepSpeed) parse and carry the right strategy keys."""
import glob
import os.path as osp
import runpy
import sys

import pytest
import torch
from mmengine.config import Config

from conftest import REPO, SINGLE_THREAD, run_tool, write_child_config

pytestmark = pytest.mark.e2e

PRETRAIN = 'configs/pretrain/scalable_vit/mae_vit-86m-p16_8xb256-amp-800e_millionaid-224.py'
TINY_ARCH = "dict(_delete_=True, embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)"

# Shrinks the shipped 86m MAE config: tiny encoder/decoder, 32 px images, fixed lr, N iterations on CPU.
TINY_PRETRAIN = """
model = dict(backbone=dict(arch={arch}, img_size=32, patch_size=8),
             decoder_embed_dims=16, decoder_depth=1, decoder_num_heads=2)
train_pipeline = [
    dict(type='mmrsfm.LoadMultiModalImages', color_types=dict(opt='color')),
    dict(type='mmrsfm.PairedRandomCropFlip', crop_size=(32, 32)),
    dict(type='mmrsfm.PackMultiModalInputs'),
]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root='{root}/', data_prefix=dict(opt='optical/'), pipeline=train_pipeline))
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end={iters})]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={iters})
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={iters}, by_epoch=False))
log_processor = dict(by_epoch=False)
"""


def tiny_pretrain_config(path: str, root: str, iters: int, base: str = PRETRAIN, extra: str = '') -> str:
    """A test config inheriting a shipped MAE config, shrunk to run ``iters`` iterations on ``root``."""
    return write_child_config(path, base, TINY_PRETRAIN.format(arch=TINY_ARCH, root=root, iters=iters) + extra)


@pytest.fixture(scope='module')
def optical_root(tmp_path_factory) -> str:
    from mmrsfm.datasets.synthetic import WRITERS
    root = str(tmp_path_factory.mktemp('optsar'))
    WRITERS['optsar'](root, num_train=16, size=32, seed=0)
    return root


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory, optical_root) -> str:
    work = tmp_path_factory.mktemp('mae')
    cfg = tiny_pretrain_config(str(work / 'mae_tiny.py'), optical_root, iters=6)
    out = run_tool(['tools/train.py', cfg, '--work-dir', str(work)], env=SINGLE_THREAD).stdout
    assert 'Iter(train) [6/6]' in out
    losses = [float(line.split('loss: ')[1].split()[0]) for line in out.splitlines() if 'Iter(train)' in line]
    assert len(losses) == 6 and all(0 < v < 10 for v in losses)
    return str(work / 'iter_6.pth')


DOWNSTREAM = """
model = dict(
    backbone=dict(arch={arch}, img_size=64, patch_size=8, window_size=2, global_attn_indexes=(1, ),
                  init_cfg=dict(checkpoint='{ckpt}', prefix={prefix!r})),
    neck=dict(in_channels=32, out_channels=16),
    decode_head=dict(in_channels=[16, 16, 16, 16], channels=16, num_classes=3),
    auxiliary_head=dict(in_channels=16, channels=16, num_classes=3))
"""


def build_downstream(tmp_path, ckpt: str, prefix, init: bool = True):
    """The shipped UPerNet + SimpleFPN base with a tiny ViT whose init_cfg points at ``ckpt``;
    initialised (``init=False``: the same model with a random init instead)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    path = write_child_config(str(tmp_path / 'upernet_tiny.py'), 'configs/_base_/models/upernet_vit-86m_simple-fpn.py',
                              DOWNSTREAM.format(arch=TINY_ARCH, ckpt=ckpt, prefix=prefix))
    init_default_scope('mmseg')
    cfg = Config.fromfile(path).model
    if not init:
        cfg.backbone.init_cfg = None
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_pretrained_encoder_flows_into_a_downstream_config(pretrained, tmp_path):
    from mmrsfm.models.layers.pos_embed import resize_pos_embed_grid
    state = torch.load(pretrained, weights_only=True)['state_dict']
    encoder = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    assert 'mask_token' in state and any(k.startswith('decoder_') for k in state)
    model = build_downstream(tmp_path, pretrained, 'backbone.')
    loaded = model.backbone.state_dict()
    for key, value in encoder.items():
        if key == 'pos_embed':  # the 4x4 pretraining grid, resized to the 8x8 downstream grid on load
            torch.testing.assert_close(loaded[key], resize_pos_embed_grid(value, (8, 8)))
        else:
            assert torch.equal(loaded[key], value), key
    # Only the downstream-only relative position tables (ViTDet's, new) are not from the checkpoint.
    assert {k for k in loaded if k not in encoder} == {k for k in loaded if 'rel_pos' in k} != set()
    # The pretrained encoder is not a fresh initialisation: a downstream model without init_cfg differs.
    fresh = build_downstream(tmp_path, pretrained, 'backbone.', init=False).backbone.state_dict()
    assert not torch.equal(fresh['blocks.0.attn.qkv.weight'], encoder['blocks.0.attn.qkv.weight'])


def test_converter_turns_the_pretrainer_checkpoint_into_a_backbone_file(pretrained, tmp_path, monkeypatch, capsys):
    out = str(tmp_path / 'vit_tiny.pth')
    # The CLI in-process (its subprocess run is covered in test_scalable_vit_convert.py).
    monkeypatch.setattr(sys, 'argv', ['scalable_vit2mmrsfm.py', pretrained, out])
    runpy.run_path(osp.join(REPO, 'tools/model_converters/scalable_vit2mmrsfm.py'), run_name='__main__')
    printed = capsys.readouterr().out
    assert 'mask_token' in printed and 'decoder_pred.weight' in printed
    model = build_downstream(tmp_path, out, None)
    state = torch.load(pretrained, weights_only=True)['state_dict']
    for key in ('patch_embed.proj.weight', 'blocks.1.attn.qkv.weight', 'blocks.0.mlp.fc2.bias', 'norm.weight'):
        assert torch.equal(model.backbone.state_dict()[key], state['backbone.' + key]), key


def test_shipped_pretraining_configs():
    from mmengine.registry import FUNCTIONS

    from mmrsfm.engine.fsdp import is_vit_block, vit_block_auto_wrap_policy
    configs = {osp.basename(p): Config.fromfile(p) for p in glob.glob(osp.join(REPO, 'configs/pretrain/scalable_vit/*.py'))}
    assert len(configs) == 5
    for name, cfg in configs.items():
        bs = cfg.train_dataloader.batch_size
        gpus = int(name.split('_')[2].split('xb')[0].split('-')[-1])
        assert gpus * bs == cfg.auto_scale_lr.base_batch_size == 2048, name  # the lr is tuned for 2048
        assert cfg.model.backbone.window_size == 0 and cfg.model.mask_ratio == 0.75
        assert cfg.model.backbone.arch == name.split('_')[1].split('-')[1]
        if 'fsdp' in name:
            s = cfg.strategy
            assert cfg.runner_type == 'FlexibleRunner' and s.type == 'FSDPStrategy'
            assert cfg.optim_wrapper.type == 'OptimWrapper' and not cfg.model.backbone.with_cp
            assert FUNCTIONS.get(s.model_wrapper.auto_wrap_policy.type) is vit_block_auto_wrap_policy
            assert FUNCTIONS.get(s.activation_checkpointing.check_fn) is is_vit_block
            assert s.model_wrapper.mixed_precision.param_dtype == 'bfloat16' and s.state_dict_cfg == 'full'
        elif 'deepspeed' in name:
            s = cfg.strategy
            assert cfg.runner_type == 'FlexibleRunner' and s.type == 'DeepSpeedStrategy'
            assert cfg.optim_wrapper.type == 'DeepSpeedOptimWrapper' and s.bf16.enabled
            assert s.zero_optimization.stage == (3 if 'zero3' in name else 2)
            assert s.train_micro_batch_size_per_gpu == bs and cfg.model.backbone.with_cp
        else:
            assert 'runner_type' not in cfg and cfg.optim_wrapper.type == 'AmpOptimWrapper'


@pytest.mark.parametrize('arch, encoder', [('1.3b', 1_305_907_840), ('2.4b', 2_418_397_952)])
def test_billion_scale_pretrainers_build_on_meta(arch, encoder):
    """The FSDP configs' model (encoder on the meta device; the 512x8 decoder is real)."""
    from mmrsfm.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, f'configs/pretrain/scalable_vit/mae_vit-{arch}-p16_fsdp-'
                                   f'{"32xb64" if arch == "1.3b" else "64xb32"}-bf16-800e_millionaid-224.py'))
    cfg.model.backbone.device = 'meta'
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.backbone.parameters()) == encoder
    decoder = sum(p.numel() for n, p in model.named_parameters() if not n.startswith('backbone.'))
    assert 25e6 < decoder < 27e6  # MAE's 512-wide, 8-block decoder (~26 M with the 16x16x3 pixel head)


def test_deepspeed_strategy_builds_when_installed():
    pytest.importorskip('deepspeed')
    from mmengine.registry import STRATEGIES
    cfg = Config.fromfile(osp.join(REPO, 'configs/pretrain/scalable_vit/mae_vit-1.3b-p16_deepspeed-zero2-32xb64-bf16-800e_'
                                   'millionaid-224.py'))
    strategy = STRATEGIES.build(cfg.strategy)
    assert strategy.config['zero_optimization']['stage'] == 2 and strategy.config['bf16']['enabled']
