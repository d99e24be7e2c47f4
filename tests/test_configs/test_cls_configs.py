"""Every scene-classification config loads in mmpretrain's scope, agrees with its dataset on the class
count, follows its paper's recipe where one is published, and builds a full-size classifier (no weights
loaded) whose logits have the right shape."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'cls', '*', '*.py')))
#: dataset type -> (classes, input bands, input size)
DATASETS = {
    'mmrsfm.AIDDataset': (30, 3, 224),
    'mmrsfm.NWPUResisc45Dataset': (45, 3, 224),
    'mmrsfm.UCMercedDataset': (21, 3, 224),
    'mmrsfm.EuroSATDataset': (10, 12, 128),
    'mmrsfm.BigEarthNetDataset': (19, 12, 128),
}


def test_every_family_and_benchmark_has_configs():
    families = {osp.basename(osp.dirname(c)) for c in CONFIGS}
    assert families == {'rs_vheat', 'spectralgpt', 'scalable_vit', 'rsmamba'}
    types = {Config.fromfile(c).train_dataloader.dataset.type for c in CONFIGS}
    assert types == set(DATASETS)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_is_consistent(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain' and cfg.model.type == 'ImageClassifier'
    classes, bands, size = DATASETS[cfg.train_dataloader.dataset.type]
    assert cfg.model.head.num_classes == classes
    assert len(cfg.model.data_preprocessor.mean) == len(cfg.model.data_preprocessor.std) == bands
    if cfg.model.get('train_cfg', {}).get('augments'):  # mixup/cutmix need the class count for one-hot labels
        assert cfg.model.data_preprocessor.num_classes == classes
    assert cfg.optim_wrapper.constructor == 'mmrsfm.LayerDecayOptimWrapperConstructor'
    name = osp.basename(path)
    if name.startswith('rs-vheat') and 'linear-probe' not in name:  # the official fine-tuning recipe
        opt = cfg.optim_wrapper
        assert opt.optimizer.lr == pytest.approx(5e-4 * 1440 / 512) and opt.optimizer.weight_decay == 0.08
        assert opt.clip_grad.max_norm == 5.0 and opt.paramwise_cfg.decay_rate == 1.0
        assert cfg.model.backbone.drop_path_rate == 0.5 and cfg.train_dataloader.batch_size == 180
    if 'linear-probe' in name:
        assert cfg.model.backbone.frozen_stages >= 4 and not cfg.model.get('train_cfg')
    for split in ('train', 'test'):
        ratio = next((p for p in name.split('_') if '-tr' in p), None)
        if ratio is not None:  # e.g. aid-tr20: the lists scene_split.py writes for --ratio 0.2
            pct = ratio.split('-tr')[1].split('-')[0]
            assert cfg[f'{split}_dataloader'].dataset.split_file == f'{split}_{pct}.txt', split


def _distinct_models():
    seen = {}
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        key = (cfg.model.backbone.type, cfg.model.backbone.get('out_type'), cfg.model.head.type)
        seen.setdefault(key, path)
    return sorted(seen.values())


@pytest.mark.parametrize('path', _distinct_models(), ids=osp.basename)
def test_full_size_classifier_builds_and_predicts(path):
    cfg = Config.fromfile(path)
    init_default_scope('mmpretrain')
    from mmpretrain.registry import MODELS
    classes, bands, size = DATASETS[cfg.train_dataloader.dataset.type]
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=[torch.rand(bands, size, size) * 255]), training=False)
        logits = model(data['inputs'], mode='tensor')
    assert logits.shape == (1, classes) and torch.isfinite(logits).all()
