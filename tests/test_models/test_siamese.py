"""SiameseEncoderDecoder, BiTemporalFusion and BiTemporalDataPreprocessor."""
from typing import Optional

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn

from mmrsfm.models import BiTemporalDataPreprocessor, BiTemporalFusion
from mmrsfm.registry import MODELS

TINY_HEAT = dict(embed_dims=16, depths=(1, 1, 1, 1), post_norm=False, layer_scale=None, spatial_correction=True)
BACKBONES = {
    'resnet': dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8),
    'vheat': dict(type='mmrsfm.RSvHeat', arch=TINY_HEAT, img_size=32),
}
WIDTHS = dict(resnet=[8, 16, 32, 64], vheat=[16, 32, 64, 128])


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


@pytest.fixture(autouse=True)
def one_thread():
    """These models are tiny: on shared CI cores a second OpenMP thread mostly spin-waits (measured
    ~9x slower with 2 threads on 2 busy cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(backbone: str = 'resnet', fusion: str = 'diff', bands: int = 4,
          test_cfg: Optional[dict] = None) -> nn.Module:
    k = dict(diff=1, concat=2, both=3)[fusion]
    widths = [k * c for c in WIDTHS[backbone]]
    cfg = ConfigDict(
        type='mmrsfm.SiameseEncoderDecoder',
        backbone=dict(BACKBONES[backbone], in_channels=bands),
        fusion=dict(type='mmrsfm.BiTemporalFusion', mode=fusion),
        decode_head=dict(type='UPerHead', in_channels=widths, in_index=[0, 1, 2, 3], channels=8, pool_scales=(1, 2),
                         num_classes=2, loss_decode=dict(type='CrossEntropyLoss')),
        auxiliary_head=dict(type='FCNHead', in_channels=widths[2], in_index=2, channels=8, num_convs=1,
                            num_classes=2, loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4)),
        data_preprocessor=dict(type='mmrsfm.BiTemporalDataPreprocessor', mean=[0.5] * bands, std=[0.25] * bands),
        test_cfg=test_cfg or dict(mode='whole'))
    return MODELS.build(cfg)


def samples(n: int, h: int, w: int):
    return [SegDataSample(gt_sem_seg=PixelData(data=torch.randint(0, 2, (1, h, w))),
                          metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))) for _ in range(n)]


@pytest.mark.parametrize('mode, factor', [('diff', 1), ('concat', 2), ('both', 3)])
def test_fusion_modes(mode, factor):
    fa, fb = [torch.randn(2, 8, 6, 5)], [torch.randn(2, 8, 6, 5)]
    fusion = BiTemporalFusion(mode)
    (out, ) = fusion(fa, fb)
    assert out.shape == (2, 8 * factor, 6, 5) and fusion.fused_channels(8) == 8 * factor
    diff = (fa[0] - fb[0]).abs()
    expected = dict(diff=diff, concat=torch.cat([fa[0], fb[0]], 1), both=torch.cat([diff, fa[0], fb[0]], 1))[mode]
    torch.testing.assert_close(out, expected)
    projected = BiTemporalFusion(mode, in_channels=[8], out_channels=[5])(fa, fb)[0]
    assert projected.shape == (2, 5, 6, 5)
    with pytest.raises(ValueError, match="fusion mode 'sum' is not one of"):
        BiTemporalFusion('sum')


@pytest.mark.parametrize('backbone', ['resnet', 'vheat'])
@pytest.mark.parametrize('mode, bands', [('diff', 4), ('both', 13)])
def test_train_and_predict_any_band_count_non_square(backbone, mode, bands):
    torch.manual_seed(0)
    model = build(backbone, mode, bands=bands)
    inputs = torch.rand(2, 2 * bands, 40, 56)  # (B, 2 dates x bands, H, W)
    losses = model.loss(inputs, samples(2, 40, 56))
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg', 'aux.loss_ce', 'aux.acc_seg'}
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, missing
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    model.eval()
    out = model.predict(inputs, samples(2, 40, 56))
    assert out[0].pred_sem_seg.shape == (40, 56) and out[0].seg_logits.data.shape == (2, 40, 56)


def test_dates_share_the_encoder():
    """Swapping A and B leaves 'diff' fusion unchanged and swaps the halves of 'concat'."""
    torch.manual_seed(0)
    model = build('resnet', 'concat').eval()
    a, b = torch.rand(1, 4, 32, 32), torch.rand(1, 4, 32, 32)
    ab, ba = model.extract_feat(torch.cat([a, b], 1)), model.extract_feat(torch.cat([b, a], 1))
    for f_ab, f_ba in zip(ab, ba):
        c = f_ab.shape[1] // 2
        torch.testing.assert_close(f_ab[:, :c], f_ba[:, c:])
        torch.testing.assert_close(f_ab[:, c:], f_ba[:, :c])
    model.fusion = BiTemporalFusion('diff')  # heads were checked on the first call and are not run here
    for f_ab, f_ba in zip(model.extract_feat(torch.cat([a, b], 1)), model.extract_feat(torch.cat([b, a], 1))):
        torch.testing.assert_close(f_ab, f_ba)


class _PointwiseBackbone(nn.Module):
    """A per-pixel backbone: each output pixel depends on its input pixel only."""

    def __init__(self, bands: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(bands, 8, 1)

    def forward(self, x):
        return (torch.tanh(self.conv(x)), )


def test_slide_equals_whole_on_a_pointwise_model():
    torch.manual_seed(0)
    cfg = dict(type='mmrsfm.SiameseEncoderDecoder', backbone=dict(BACKBONES['resnet'], in_channels=3),
               decode_head=dict(type='FCNHead', in_channels=8, in_index=0, channels=8, num_convs=1, kernel_size=1,
                                concat_input=False, num_classes=2, loss_decode=dict(type='CrossEntropyLoss')),
               test_cfg=dict(mode='whole'))
    model = MODELS.build(ConfigDict(cfg))
    model.backbone = _PointwiseBackbone(3)
    model.eval()
    inputs = torch.rand(1, 6, 45, 37)
    whole = model.inference(inputs, [dict(img_shape=(45, 37), ori_shape=(45, 37), pad_shape=(45, 37))])
    model.test_cfg = ConfigDict(mode='slide', crop_size=(16, 16), stride=(11, 11))  # uneven overlaps
    slide = model.inference(inputs, [dict(img_shape=(45, 37), ori_shape=(45, 37), pad_shape=(45, 37))])
    assert slide.shape == whole.shape == (1, 2, 45, 37)
    torch.testing.assert_close(slide, whole, atol=1e-5, rtol=1e-5)


def test_slide_covers_large_pairs_with_a_real_backbone():
    model = build('vheat', bands=3, test_cfg=dict(mode='slide', crop_size=(32, 32), stride=(24, 24))).eval()
    out = model.predict(torch.rand(1, 6, 70, 50), samples(1, 70, 50))
    assert out[0].pred_sem_seg.shape == (70, 50)


def test_head_channel_mismatch_names_the_field():
    model = build('resnet', 'diff')
    model.fusion = BiTemporalFusion('both')
    with pytest.raises(ValueError, match=r'model.decode_head.in_channels=\[8, 16, 32, 64\] but the fused features '
                                         r".*mode='both'.* have \[24, 48, 96, 192\] channels"):
        model.extract_feat(torch.rand(1, 8, 32, 32))


def test_preprocessor_normalises_each_date_and_flips_bgr_per_date():
    pre = BiTemporalDataPreprocessor(mean=[1., 2., 3.], std=[1., 1., 2.], mean_b=[0., 0., 0.], std_b=[1., 1., 1.],
                                     bgr_to_rgb=True)
    x = torch.arange(6.).view(6, 1, 1).expand(6, 2, 2)  # A = (0, 1, 2) BGR, B = (3, 4, 5) BGR
    out = pre(dict(inputs=[x.clone()], data_samples=[SegDataSample()]))['inputs'][0, :, 0, 0]
    # A: RGB (2, 1, 0) -> ((2-1)/1, (1-2)/1, (0-3)/2); B: RGB (5, 4, 3) unnormalised
    torch.testing.assert_close(out, torch.tensor([1., -1., -1.5, 5., 4., 3.]))
    assert pre.mean.numel() == 6  # what InputChannelsCheckHook compares with the stacked input
    with pytest.raises(ValueError, match='the data has 2 bands per date but model.data_preprocessor.mean/std have 3'):
        pre(dict(inputs=[torch.zeros(4, 2, 2)], data_samples=[SegDataSample()]))
    with pytest.raises(ValueError, match='bgr_to_rgb=True needs 3-band dates, got 13'):
        BiTemporalDataPreprocessor(bgr_to_rgb=True)(dict(inputs=[torch.zeros(26, 2, 2)], data_samples=[None]))


def test_input_channels_hook_counts_bands_per_date():
    from types import SimpleNamespace

    from mmrsfm.engine import InputChannelsCheckHook
    model = build('resnet', bands=3)
    hook = InputChannelsCheckHook()
    hook.before_run(SimpleNamespace(model=model))
    hook.before_train_iter(None, 0, dict(inputs=[torch.zeros(6, 8, 8)]))  # 2 dates x 3 bands
    with pytest.raises(ValueError, match=r'yields 2 dates of 13 bands but .* have 3 values per date\. Fix: give '
                                         r'13 values .*backbone.in_channels=13'):
        hook.before_train_iter(None, 0, dict(inputs=[torch.zeros(26, 8, 8)]))
    with pytest.raises(ValueError, match=r'built for in_channels=3 .* received 13-band input'):
        model.extract_feat(torch.zeros(1, 26, 32, 32))  # the backbone sees one date at a time
