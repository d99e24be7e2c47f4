from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel, ImgDataPreprocessor
from torch import nn

from mmrsfm.engine import InputChannelsCheckHook
from mmrsfm.registry import HOOKS


class TinyModel(BaseModel):

    def __init__(self, in_channels=3):
        super().__init__(data_preprocessor=ImgDataPreprocessor(mean=[0.] * 3, std=[1.] * 3))
        self.backbone = nn.Sequential(nn.Conv2d(in_channels, 4, 3), nn.ReLU())

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.backbone(inputs)


def _hooked(model):
    hook = HOOKS.build(dict(type='mmrsfm.InputChannelsCheckHook'))
    assert isinstance(hook, InputChannelsCheckHook)
    hook.before_run(SimpleNamespace(model=model))
    return hook


def test_matching_bands_pass():
    model = TinyModel()
    hook = _hooked(model)
    hook.before_train_iter(None, 0, dict(inputs=[torch.zeros(3, 8, 8)]))
    assert model(torch.zeros(1, 3, 8, 8)).shape == (1, 4, 6, 6)


def test_preprocessor_mismatch_names_fields():
    hook = _hooked(TinyModel())
    with pytest.raises(ValueError) as err:
        hook.before_val_iter(None, 0, dict(inputs=[torch.zeros(4, 8, 8)]))
    msg = str(err.value)
    assert 'yields 4-band images but model.data_preprocessor.mean/std have 3 values' in msg
    assert 'model.backbone.in_channels=4' in msg


def test_backbone_mismatch_names_field():
    model = TinyModel(in_channels=3)
    _hooked(model)
    with pytest.raises(ValueError, match=r'model.backbone \(Sequential\) was built for in_channels=3 '
                                         r'\(its first layer backbone.0\) but received 4-band input'):
        model(torch.zeros(2, 4, 8, 8))


def test_backbone_declaring_several_stems():
    model = TinyModel(in_channels=3)
    model.backbone.input_bands = (1, 3)  # e.g. RSvHeat with dict(opt=3, sar=1)
    _hooked(model)
    model.backbone(torch.zeros(1, 3, 8, 8))  # accepted without a stem-specific conv check
    with pytest.raises(ValueError, match=r'in_channels=1 or 3 \(its stems\) but received 4-band'):
        model.backbone(torch.zeros(1, 4, 8, 8))


# ---------------------------------------------------------------------------------------------------------------
# Bands the pipeline loses: the loader against the file, and the transform that changed the count


@pytest.fixture
def rgbir_pngs(tmp_path):
    """mmseg's PotsdamDataset layout with 4-band PNGs (what the converter writes for --modality RGBIR)."""
    import cv2
    rng = np.random.default_rng(0)
    for sub in ('img_dir/train', 'ann_dir/train'):
        (tmp_path / sub).mkdir(parents=True)
    for i in range(2):
        cv2.imwrite(str(tmp_path / f'img_dir/train/{i}.png'), rng.integers(0, 256, (32, 32, 4), dtype=np.uint8))
        cv2.imwrite(str(tmp_path / f'ann_dir/train/{i}.png'), rng.integers(1, 7, (32, 32), dtype=np.uint8))
    return str(tmp_path)


def _potsdam(root, pipeline):
    from mmengine.registry import DATASETS, init_default_scope
    init_default_scope('mmseg')
    return DATASETS.build(dict(type='PotsdamDataset', data_root=root, reduce_zero_label=True, pipeline=pipeline,
                               data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train')))


def _runner(model, dataset, split='train'):
    loop = SimpleNamespace(dataloader=SimpleNamespace(dataset=dataset))
    return SimpleNamespace(model=model, **{f'{split}_loop': loop})


class FourBandModel(TinyModel):

    def __init__(self):
        super().__init__(in_channels=4)
        from mmseg.models import SegDataPreProcessor
        self.data_preprocessor = SegDataPreProcessor(mean=[0.] * 4, std=[1.] * 4)


def test_loader_dropping_a_band_of_the_file_is_an_error_naming_loader_and_fix(rgbir_pngs):
    ds = _potsdam(rgbir_pngs, [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')])
    hook = HOOKS.build(dict(type='mmrsfm.InputChannelsCheckHook'))
    runner = _runner(FourBandModel(), ds)
    hook.before_run(runner)
    state = np.random.get_state()[1].copy()
    with pytest.raises(ValueError) as err:
        hook.before_train(runner)
    msg = str(err.value)
    assert "train data: '" in msg and "0.png' holds 4 bands but the pipeline's first transform LoadImageFromFile" in msg
    assert "(color_type='color') loads 3" in msg and "color_type='unchanged'" in msg
    assert 'model.backbone.in_channels=4' in msg and 'check_file_bands=False' in msg
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # the check leaves the random stream alone
    ok = _potsdam(rgbir_pngs, [dict(type='LoadImageFromFile', color_type='unchanged'), dict(type='LoadAnnotations')])
    HOOKS.build(dict(type='mmrsfm.InputChannelsCheckHook')).before_train(_runner(FourBandModel(), ok))
    off = HOOKS.build(dict(type='mmrsfm.InputChannelsCheckHook', check_file_bands=False))
    off.before_train(_runner(FourBandModel(), ds))  # the documented opt-out


def test_mismatch_names_the_transform_that_changed_the_band_count(rgbir_pngs):
    pipeline = [dict(type='LoadImageFromFile', color_type='unchanged'), dict(type='LoadAnnotations'),
                dict(type='RandomFlip', prob=0.5), dict(type='PhotoMetricDistortion'), dict(type='PackSegInputs')]
    ds = _potsdam(rgbir_pngs, pipeline)
    model = FourBandModel()
    hook = HOOKS.build(dict(type='mmrsfm.InputChannelsCheckHook'))
    runner = _runner(model, ds)
    hook.before_run(runner)
    hook.before_train(runner)  # the loader keeps all 4 bands: fine
    for seed in range(8):  # its HSV steps (which drop the 4th band) run with probability 1/2 each
        np.random.seed(seed)
        batch = dict(inputs=[ds[0]['inputs']])
        if batch['inputs'][0].shape[0] == 3:
            break
    assert batch['inputs'][0].shape[0] == 3  # PhotoMetricDistortion returned 3 bands
    with pytest.raises(ValueError) as err:
        hook.before_train_iter(runner, 0, batch)
    msg = str(err.value)
    assert 'yields 3-band images but model.data_preprocessor.mean/std have 4 values' in msg
    assert 'changes the band count at transform #3 PhotoMetricDistortion (4 -> 3 bands)' in msg
    assert "dict(type='mmrsfm.ApplyToBands', bands=(0, 1, 2), transforms=[dict(type='PhotoMetricDistortion')])" in msg
    with pytest.raises(ValueError, match=r'received 3-band input.*transform #3 PhotoMetricDistortion'):
        model.backbone(torch.zeros(1, 3, 8, 8))
    # the suggested fix keeps every band
    pipeline[3] = dict(type='mmrsfm.ApplyToBands', bands=(0, 1, 2), transforms=[dict(type='PhotoMetricDistortion')])
    fixed = _potsdam(rgbir_pngs, pipeline)
    hook.before_train_iter(runner, 0, dict(inputs=[fixed[0]['inputs']]))
