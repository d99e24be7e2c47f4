from types import SimpleNamespace

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
