"""Every RS4D config (distillation and instance segmentation) loads and is what its name says; the
SSDD-base config of each head and every distillation config build a model that runs (RSMamba, the
teacher and the box head shrunk, no weights loaded)."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
INS_SEG = sorted(glob.glob(osp.join(REPO, 'configs/ins_seg/rs4d/*.py')))
PRETRAIN = sorted(glob.glob(osp.join(REPO, 'configs/pretrain/rs4d/*.py')))
DATASETS = {'ssdd': 1, 'whu-building': 1, 'nwpu-vhr10': 10}
LAYERS = {'base': 24, 'large': 28, 'huge': 32}
TINY = dict(embed_dims=256, num_layers=4, feedforward_channels=32)  # width 256: the necks expect it


def test_all_heads_datasets_and_sizes_exist():
    found = {re.match(r'(mask-rcnn|prompt-rcnn)_rsmamba-(\w+)_agg-sfpn_1xb\d+-\d+e_([\w-]+)-1024x1024\.py$',
                      osp.basename(p)).groups() for p in INS_SEG}
    assert found == {(h, s, d) for h in ('mask-rcnn', 'prompt-rcnn') for s in LAYERS for d in DATASETS}
    assert len(INS_SEG) == 18 and len(PRETRAIN) == 4


@pytest.mark.parametrize('path', INS_SEG, ids=osp.basename)
def test_ins_seg_config_builds_and_runs(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    head, size, dataset = re.match(r'([\w-]+?)_rsmamba-(\w+)_.*_([\w-]+)-1024x1024\.py$', name).groups()
    num_classes, layers = DATASETS[dataset], LAYERS[size]
    assert cfg.default_scope == 'mmdet'
    for split in ('train', 'val', 'test'):
        dataset_cfg = getattr(cfg, f'{split}_dataloader').dataset
        assert dataset_cfg.type == 'mmrsfm.CheckedCocoDataset' and len(dataset_cfg.metainfo.classes) == num_classes
    assert [t['type'] for t in cfg.train_dataloader.dataset.pipeline][3:5] == ['RandomResize', 'RandomCrop']
    assert cfg.test_dataloader.dataset.pipeline[1].scale == (1024, 1024)
    assert cfg.optim_wrapper.optimizer.type == 'AdamW' and cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.param_scheduler[0].end == 50 and cfg.param_scheduler[1].eta_min == 1e-7
    assert cfg.param_scheduler[1].end == cfg.train_cfg.max_epochs == int(re.search(r'-(\d+)e_', name).group(1))
    backbone, (aggregator, fpn) = cfg.model.backbone, cfg.model.neck
    assert backbone.type == 'mmrsfm.RSMamba' and backbone.arch == size and backbone.init_cfg.prefix == 'student.'
    assert f'rsmamba-{size}' in backbone.init_cfg.checkpoint
    assert aggregator.layer_indices == list(range(2 if head == 'prompt-rcnn' else 1, layers, 2))
    assert fpn.type == 'mmrsfm.SimpleFPN' and fpn.num_outs == 5
    roi = cfg.model.roi_head
    assert roi.bbox_head.num_classes == num_classes
    if head == 'prompt-rcnn':
        assert roi.type == 'mmrsfm.PromptRoIHead' and roi.mask_head.type == 'mmrsfm.PromptMaskHead'
        assert roi.mask_head.sam_checkpoint == 'checkpoints/sam_vit_b_01ec64.pth'  # the teacher's file
        assert cfg.model.rpn_head.anchor_generator.scales == [4, 8]
    else:
        assert roi.mask_head.num_classes == num_classes and cfg.model.rpn_head.anchor_generator.scales == [8]
    assert backbone.get('frozen_stages', -1) == (layers if head == 'mask-rcnn' and dataset == 'nwpu-vhr10' else -1)

    if not (size == 'base' and dataset == 'ssdd'):
        return  # building every head / size is slow and tests the same code: one model per head
    backbone.update(arch=TINY, img_size=64, init_cfg=None, frozen_stages=-1)
    roi.bbox_head.fc_out_channels = 64
    aggregator.layer_indices = [1, 3]
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 64, 96))
    assert len(feats) == 5 and feats[0].shape == (1, 256, 16, 24)  # strides 4..64
    if head == 'prompt-rcnn':
        assert model.roi_head.mask_head.mask_stride == 4


@pytest.mark.parametrize('path', PRETRAIN, ids=osp.basename)
def test_distill_config_builds(path):
    cfg = Config.fromfile(path)
    model_cfg = cfg.model
    assert model_cfg.type == 'FeatureDistiller' and model_cfg.student.type == 'RSMamba'
    assert model_cfg.teacher.type == 'ScalableViT' and model_cfg.teacher.use_rel_pos
    assert model_cfg.student.arch in LAYERS and model_cfg.teacher_checkpoint.endswith('.pth')
    noise, mask = model_cfg.noise_std, model_cfg.mask_ratio
    assert (noise, mask) == ((0.2, 0.2) if 'n20m20' in path else ((0.0, 0.2), (0.0, 0.2)))
    model_cfg.student.update(arch=dict(TINY, num_layers=1), img_size=64)
    model_cfg.teacher.update(arch=dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64),
                             img_size=64, window_size=2)
    model_cfg.update(teacher_checkpoint=None, teacher_channels=32)
    init_default_scope('mmrsfm')
    from mmrsfm.registry import MODELS
    model = MODELS.build(model_cfg)
    losses = model(dict(opt=torch.rand(1, 3, 64, 64)))
    assert losses['loss_distill'].requires_grad


@pytest.mark.parametrize('path', [INS_SEG[0], PRETRAIN[0]], ids=osp.basename)
def test_ssm_parameters_get_no_weight_decay(path):
    """A_log / D, norms, biases and the position embedding are exempt from weight decay; weights are not."""
    from mmengine.optim import build_optim_wrapper
    from mmrsfm.registry import MODELS
    cfg = Config.fromfile(path)
    model = MODELS.build(dict(type='mmrsfm.RSMamba', arch=dict(embed_dims=32, num_layers=2, feedforward_channels=64),
                              img_size=64))
    groups = build_optim_wrapper(model, cfg.optim_wrapper).optimizer.param_groups
    names = {id(p): n for n, p in model.named_parameters()}
    decay = {names[id(g['params'][0])]: g['weight_decay'] for g in groups}
    assert len(decay) == len(names)
    assert all(decay[n] == 0 for n in ('layers.0.A_log', 'layers.1.D', 'pre_norm.weight', 'pos_embed',
                                        'layers.0.dt_proj.bias'))
    assert all(decay[n] == 0.05 for n in ('layers.0.in_proj.weight', 'layers.1.x_proj.weight',
                                           'patch_embed.projection.weight'))
