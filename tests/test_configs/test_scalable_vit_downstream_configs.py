"""The billion-scale RS ViT downstream configs (Oriented R-CNN on DOTA v2.0 / DIOR-R, UPerNet on Potsdam /
LoveDA, sizes 86m..2.4b): each loads, sets what its name says, builds the full model at its real size on
the meta device (no allocation), maps a full-size input to the expected pyramid, gives the expected
layer-wise learning rates, and (backbone and heads shrunk) takes optimisation steps on CPU."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DET = sorted(glob.glob(osp.join(REPO, 'configs/rotated_det/scalable_vit/*.py')))
SEG = sorted(glob.glob(osp.join(REPO, 'configs/seg/scalable_vit/*.py')))
SIZES = ('86m', '605m', '1.3b', '2.4b')
#: The paper's parameter counts, and per size: width, depth, drop path, layer decay, GPUs x batch per task.
PAPER_PARAMS = {'86m': 86e6, '605m': 605.26e6, '1.3b': 1.3e9, '2.4b': 2.4e9}
SETTINGS = {  # size: (width, depth, drop_path_rate, decay_rate, det NxB, seg NxB)
    '86m': (768, 12, 0.1, 0.7, (4, 2), (4, 4)),
    '605m': (1024, 48, 0.4, 0.91, (8, 1), (8, 2)),
    '1.3b': (1664, 34, 0.5, 0.875, (8, 1), (8, 2)),
    '2.4b': (1664, 63, 0.5, 0.93, (8, 1), (8, 2)),
}
DATASETS = {  # name part: (train dataset type, classes, design / test size)
    'dotav2-ss-1024x1024': ('DOTAv2Dataset', 18, 1024),
    'dior-800x800': ('DIORDataset', 20, 800),
    'potsdam-512x512': ('PotsdamDataset', 6, 512),
    'loveda-512x512': ('mmrsfm.LoveDAOfficialDataset', 7, 512),
}
NAME = re.compile(r'^(?P<algo>oriented-rcnn-le90|upernet)_vit-(?P<size>[\d.]+[mb])_simple-fpn_(?P<gpus>\d+)xb'
                  r'(?P<batch>\d+)-(?P<sched>1x|80k)_(?P<data>.+)\.py$')


def _parse(path: str) -> dict:
    match = NAME.match(osp.basename(path))
    assert match, f'{osp.basename(path)} does not follow the naming scheme'
    return match.groupdict()


def test_every_size_and_dataset_has_a_config():
    found = {(p['size'], p['data']) for p in map(_parse, DET + SEG)}
    assert found == {(s, d) for s in SIZES for d in DATASETS} and len(DET + SEG) == 16


@pytest.mark.parametrize('path', DET + SEG, ids=osp.basename)
def test_larger_sizes_are_small_diffs_of_the_next_smaller(path):
    """86m is the per-dataset root; each larger size inherits the next smaller one of the same dataset
    and changes at most 10 lines (STYLE: no duplicated configs)."""
    info = _parse(path)
    with open(path) as f:
        code = [ln for ln in f.read().splitlines() if ln.strip() and not ln.lstrip().startswith('#')]
    index = SIZES.index(info['size'])
    if index == 0:
        assert code[0].startswith('_base_ = [') and 'vit-86m_simple-fpn' in code[1]
        return
    base = re.match(r"_base_ = '\./(.+)'", code[0])
    assert base, code[0]
    smaller = _parse(base.group(1))
    assert (smaller['size'], smaller['data']) == (SIZES[index - 1], info['data'])
    assert len(code) <= 10, f'{len(code)} code lines'


def _meta_model(cfg: Config, scope: str) -> torch.nn.Module:
    init_default_scope(scope)
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    cfg.model.backbone.init_cfg = None
    with torch.device('meta'):  # every parameter on meta: 2.4B parameters take no memory
        return registry.build(cfg.model).eval()


@pytest.mark.parametrize('path', DET + SEG, ids=osp.basename)
def test_config_builds_its_size_and_gives_layer_wise_lrs(path):
    info = _parse(path)
    size, det = info['size'], info['algo'] == 'oriented-rcnn-le90'
    width, depth, drop_path, decay, det_nxb, seg_nxb = SETTINGS[size]
    dataset_type, num_classes, img_size = DATASETS[info['data']]
    gpus, batch = int(info['gpus']), int(info['batch'])
    cfg = Config.fromfile(path)

    # data, classes and task settings
    train_sets = cfg.train_dataloader.dataset.get('datasets', [cfg.train_dataloader.dataset])
    assert {d.type for d in train_sets} == {dataset_type}
    assert (gpus, batch) == (det_nxb if det else seg_nxb) and cfg.train_dataloader.batch_size == batch
    assert cfg.auto_scale_lr.base_batch_size == gpus * batch == (8 if det else 16)
    if det:
        assert cfg.default_scope == 'mmrotate' and info['sched'] == '1x' and cfg.train_cfg.max_epochs == 12
        assert cfg.model.roi_head.bbox_head.num_classes == num_classes
        assert cfg.model.rpn_head.bbox_coder.angle_version == cfg.angle_version == 'le90'
        assert cfg.model.roi_head.bbox_head.bbox_coder.angle_version == 'le90'
    else:
        assert cfg.default_scope == 'mmseg' and info['sched'] == '80k' and cfg.train_cfg.max_iters == 80000
        assert cfg.model.decode_head.num_classes == cfg.model.auxiliary_head.num_classes == num_classes
        assert cfg.model.test_cfg.mode == 'slide' and cfg.model.test_cfg.crop_size == (512, 512)

    # backbone: ViTDet-style fine-tuning of the MAE checkpoint of this size
    backbone = cfg.model.backbone
    assert backbone.type == 'mmrsfm.ScalableViT' and backbone.arch == size and backbone.img_size == img_size
    assert backbone.use_rel_pos and backbone.window_size == 14 and backbone.drop_path_rate == drop_path
    assert backbone.with_cp == (size != '86m')
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=f'checkpoints/vit-{size}_mae_millionaid.pth',
                                     prefix='backbone.')
    assert cfg.model.neck.type == 'mmrsfm.SimpleFPN' and cfg.model.neck.in_channels == width
    amp = cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert amp == (size != '86m') and cfg.optim_wrapper.get('dtype') == ('bfloat16' if amp else None)
    assert cfg.optim_wrapper.optimizer.type == 'AdamW' and cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.optim_wrapper.constructor == 'mmrsfm.LayerDecayOptimWrapperConstructor'
    assert cfg.optim_wrapper.paramwise_cfg.decay_rate == decay

    # the whole model at its real size, on meta
    model = _meta_model(cfg, 'mmrotate' if det else 'mmseg')
    vit = model.backbone
    assert (vit.embed_dims, vit.num_layers, vit.global_attn_indexes) == (
        width, depth, tuple(k * depth // 4 - 1 for k in range(1, 5)))
    # encoder parameters as the paper counts them (224 px position grid, no rel-pos tables)
    encoder = sum(p.numel() for n, p in vit.named_parameters() if 'rel_pos' not in n and n != 'pos_embed')
    assert encoder + 14 * 14 * width == pytest.approx(PAPER_PARAMS[size], rel=0.01)
    with torch.no_grad():
        feats = model.extract_feat(torch.empty(1, 3, img_size, img_size, device='meta'))
    if det:  # P2..P6 for the RPN, P2..P5 for the RoI extractor (800 / 32 = 25: P6 covers it with 13)
        assert [tuple(f.shape) for f in feats] == [(1, 256, -(-img_size // s), -(-img_size // s))
                                                   for s in (4, 8, 16, 32, 64)]
    else:
        with torch.no_grad():
            logits = model.decode_head(feats)
        assert tuple(logits.shape) == (1, num_classes, img_size // 4, img_size // 4)

    # layer-wise lr decay on the built model (AmpOptimWrapper needs a GPU: the groups are the same)
    optim_cfg = cfg.optim_wrapper.copy()
    optim_cfg.pop('dtype', None)
    optim_cfg.type = 'OptimWrapper'
    groups = build_optim_wrapper(model, optim_cfg).optimizer.param_groups
    lr = {name: (g['lr'], g['weight_decay']) for g in groups for name in g['param_names']}
    assert len(lr) == sum(1 for _ in model.parameters())
    head = 'roi_head.bbox_head.fc_cls.weight' if det else 'decode_head.conv_seg.weight'
    assert lr[head] == (pytest.approx(1e-4), 0.05) and lr['neck.stages.0.1.weight'][0] == pytest.approx(1e-4)
    assert lr['backbone.norm.weight'] == (pytest.approx(1e-4), 0.0)
    assert lr[f'backbone.blocks.{depth - 1}.attn.qkv.weight'] == (pytest.approx(1e-4 * decay), 0.05)
    assert lr['backbone.blocks.0.attn.qkv.weight'][0] == pytest.approx(1e-4 * decay**depth)
    assert lr['backbone.patch_embed.proj.weight'][0] == pytest.approx(1e-4 * decay**(depth + 1))
    assert lr['backbone.pos_embed'] == (pytest.approx(1e-4 * decay**(depth + 1)), 0.0)
    # the documented rule: the patch embedding trains at ~1% of the base lr at every size
    assert 0.009 <= decay**(depth + 1) <= 0.011


def _fake_batch(det: bool, num_classes: int, size: int = 64) -> dict:
    """Two images with targets, as the packing transforms deliver them (uint8 CHW + data samples)."""
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8) for _ in range(2)]
    meta = dict(img_shape=(size, size), ori_shape=(size, size), scale_factor=(1., 1.))
    samples = []
    for i in range(2):
        if det:
            from mmdet.structures import DetDataSample
            from mmengine.structures import InstanceData
            from mmrotate.structures.bbox import RotatedBoxes
            sample = DetDataSample(metainfo=meta)
            sample.gt_instances = InstanceData(
                bboxes=RotatedBoxes(torch.tensor([[20., 24., 16., 8., 0.3], [40., 40., 12., 20., -0.5]])),
                labels=torch.tensor([i % num_classes, (i + 1) % num_classes]))
        else:
            from mmengine.structures import PixelData
            from mmseg.structures import SegDataSample
            sample = SegDataSample(metainfo=meta)
            sample.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, size, size), generator=g))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('path', DET + SEG, ids=osp.basename)
def test_config_trains_a_few_steps_with_a_shrunk_backbone(path):
    """Every config's model, with its own settings (window + global blocks, rel-pos, drop path, with_cp,
    layer-wise decay) but a 32-wide 4-block backbone, takes optimisation steps on CPU with finite losses
    and moves the first and last backbone blocks (AmpOptimWrapper needs a GPU: same groups, fp32 here)."""
    info = _parse(path)
    det = info['algo'] == 'oriented-rcnn-le90'
    scope = 'mmrotate' if det else 'mmseg'
    cfg = Config.fromfile(path)
    cfg.model.backbone.update(arch=dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64),
                              img_size=64, window_size=2, global_attn_indexes=(1, 3), init_cfg=None)
    cfg.model.neck.update(in_channels=32, out_channels=32)
    if det:  # the e2e test's narrow heads
        cfg.model.rpn_head.update(in_channels=32, feat_channels=32)
        cfg.model.roi_head.bbox_roi_extractor.out_channels = 32
        cfg.model.roi_head.bbox_head.update(in_channels=32, fc_out_channels=64)
    else:
        cfg.model.decode_head.update(in_channels=[32] * 4, channels=16, pool_scales=(1, 2))
        cfg.model.auxiliary_head.update(in_channels=32, channels=16)
    init_default_scope(scope)
    torch.manual_seed(0)
    model = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    optim_cfg = cfg.optim_wrapper.copy()
    optim_cfg.pop('dtype', None)
    optim_cfg.type = 'OptimWrapper'
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    before = {n: p.detach().clone() for n, p in model.backbone.named_parameters()
              if n.startswith(('blocks.0.', 'blocks.3.')) and p.requires_grad}
    num_classes = DATASETS[info['data']][1]
    for _ in range(2):
        log_vars = model.train_step(_fake_batch(det, num_classes), optim_wrapper)
        assert torch.isfinite(log_vars['loss']), log_vars
    changed = {n for n, p in model.backbone.named_parameters() if n in before and not torch.equal(p, before[n])}
    assert {'blocks.0.attn.qkv.weight', 'blocks.3.mlp.fc2.weight'} <= changed
