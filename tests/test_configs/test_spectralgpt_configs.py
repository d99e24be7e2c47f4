"""Every SpectralGPT config loads, is consistent in bands / sizes with the official recipe, and builds a
model (SpectralGPT shrunk, no weights loaded) that runs: pretraining loss, segmentation and
change-detection predictions at full size."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Scene classification (configs/cls/spectralgpt) is checked with the other classifiers in test_cls_configs.py.
CONFIGS = sorted(c for c in glob.glob(osp.join(REPO, 'configs', '*', 'spectralgpt', '*.py')) if '/cls/' not in c)
TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
TINY_PYRAMID = dict(channels=(8, 16, 16, 16), mid_channels=(16, 16, 16, 16), norm_groups=4, dropout=0.0)
SPECTRALGPT_BANDS = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B11', 'B12')


def test_configs_exist():
    tasks = {osp.basename(osp.dirname(osp.dirname(c))) for c in CONFIGS}
    assert tasks == {'pretrain', 'seg', 'change_det'} and len(CONFIGS) == 4


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    model_cfg = cfg.model
    backbone = model_cfg.backbone
    assert backbone.type == 'mmrsfm.SpectralGPT' and backbone.arch == 'base' and backbone.in_channels == 12
    backbone.arch = TINY
    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    if name.startswith('spectralmae'):
        assert model_cfg.mask_ratio == 0.9 and model_cfg.data_preprocessor.norm == 'minmax'
        assert model_cfg.data_preprocessor.num_bands == 12
        loader = cfg.train_dataloader.dataset.pipeline[0]
        assert loader.type == 'mmrsfm.LoadMultiBandImage' and tuple(loader.drop_bands) == ('B10', )
        size = 128 if name.endswith('-128.py') else 96
        crop = cfg.train_dataloader.dataset.pipeline[1]
        assert tuple(backbone.img_size) == (size, size) and crop.type == 'mmrsfm.RandomResizedCrop'
        assert tuple(crop.size) == (size, size) and tuple(crop.scale) == (0.2, 1.0)
        if size == 128:  # progressive stage 2 starts from stage 1's weights
            assert cfg.load_from.endswith('200e_s2-96/epoch_200.pth') and not cfg.resume
        model_cfg.update(decoder_embed_dims=16, decoder_depth=1, decoder_num_heads=2)
        model = MODELS.build(model_cfg)
        data = model.data_preprocessor(dict(inputs=[torch.rand(12, 32, 32) * 1000] * 2), training=True)
        losses = model(**data, mode='loss')
        assert set(losses) == {'loss_masked', 'loss_spectral_sum'} and all(v > 0 for v in losses.values())
        return
    assert cfg.optim_wrapper.constructor == 'mmrsfm.LayerDecayOptimWrapperConstructor'
    assert cfg.optim_wrapper.optimizer.lr == 1e-4 and cfg.optim_wrapper.optimizer.weight_decay == 1e-5
    assert model_cfg.data_preprocessor.norm == 'minmax'
    assert model_cfg.decode_head.in_channels == [256, 512, 1024, 2048] and model_cfg.decode_head.channels == 256
    backbone.update(pyramid_cfg=TINY_PYRAMID, init_cfg=None, img_size=32)
    model_cfg.decode_head.update(in_channels=[8, 16, 16, 16], channels=16)
    if 'segmunich' in name:
        assert cfg.train_dataloader.dataset.type == 'mmrsfm.SegMunichDataset'
        assert model_cfg.decode_head.num_classes == 13 and model_cfg.data_preprocessor.num_bands == 12
        pipeline = cfg.train_dataloader.dataset.pipeline
        assert [t.type for t in pipeline[:3]] == ['mmrsfm.LoadMultiBandImage', 'LoadAnnotations', 'mmrsfm.PadBands']
        assert pipeline[2].num_bands == 12 and pipeline[2].mode == 'mean'
        bands, channels = 12, 12
    else:
        assert cfg.train_dataloader.dataset.type == 'mmrsfm.OSCDDataset'
        assert tuple(cfg.train_dataloader.dataset.bands) == tuple(cfg.test_dataloader.dataset.bands) == \
            SPECTRALGPT_BANDS
        assert model_cfg.type == 'mmrsfm.SiameseEncoderDecoder' and model_cfg.auxiliary_head is None
        model_cfg.test_cfg.update(crop_size=(32, 32), stride=(24, 24))
        bands, channels = 12, 24  # stacked pair
    model = MODELS.build(model_cfg).eval()
    meta = dict(img_shape=(40, 36), ori_shape=(40, 36))
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=[torch.rand(channels, 40, 36) * 1000],
                                            data_samples=[SegDataSample(metainfo=meta)]), training=False)
        out = model.predict(data['inputs'], data['data_samples'])
    assert model.backbone.num_groups == bands // 3
    assert out[0].pred_sem_seg.shape == (40, 36)
