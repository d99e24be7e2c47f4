"""Classification pieces: the multi-label loss equals torch's MultiLabelSoftMarginLoss through mmpretrain's
head (whose own sigmoid loss is num_classes times larger), GlobalPoolNorm pools maps and tokens alike, and
SigmaRangeScale gives SpectralGPT's BigEarthNet inputs (SentinelNormalize + ToTensor, written out here)."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from mmrsfm.datasets.transforms import SigmaRangeScale
from mmrsfm.models.losses import MultiLabelSoftMarginLoss
from mmrsfm.models.necks import GlobalPoolNorm


def test_multilabel_loss_through_the_mmpretrain_head_equals_torch():
    init_default_scope('mmpretrain')
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    torch.manual_seed(0)
    feats = torch.randn(4, 8)
    labels = [[0, 3], [1], [], [2, 3, 4]]
    samples = [DataSample().set_gt_label(torch.tensor(lab, dtype=torch.long)) for lab in labels]
    targets = torch.zeros(4, 5)
    for i, lab in enumerate(labels):
        targets[i, lab] = 1
    ours = MODELS.build(dict(type='MultiLabelLinearClsHead', num_classes=5, in_channels=8,
                             loss=dict(type='mmrsfm.MultiLabelSoftMarginLoss')))
    theirs = MODELS.build(dict(type='MultiLabelLinearClsHead', num_classes=5, in_channels=8))
    theirs.load_state_dict(ours.state_dict())
    with torch.no_grad():
        logits = ours((feats, ))
    ref = torch.nn.MultiLabelSoftMarginLoss()(logits, targets)
    assert ours.loss((feats, ), samples)['loss'].item() == pytest.approx(ref.item(), rel=1e-6)
    assert theirs.loss((feats, ), samples)['loss'].item() == pytest.approx(5 * ref.item(), rel=1e-5)  # why we need ours
    with pytest.raises(ValueError, match='one-hot'):
        MultiLabelSoftMarginLoss()(logits, targets[:, :3])


def test_global_pool_norm_on_maps_and_tokens():
    torch.manual_seed(0)
    neck = GlobalPoolNorm(6)
    tokens = torch.randn(2, 12, 6)
    as_map = tokens.transpose(1, 2).reshape(2, 6, 3, 4)
    ref = torch.nn.functional.layer_norm(tokens.mean(1), (6, ), eps=1e-6)
    assert torch.allclose(neck((as_map, ))[0], ref, atol=1e-6)
    assert torch.allclose(neck(tokens)[0], ref, atol=1e-6)
    assert torch.equal(GlobalPoolNorm(6, norm=False)([as_map])[0], as_map.mean((2, 3)))
    with pytest.raises(ValueError, match='neck.in_channels'):
        neck(torch.randn(2, 5, 3, 3))


def test_sigma_range_scale_equals_the_official_normalisation():
    rng = np.random.default_rng(0)
    mean, std = np.array([1000.0, 1500.0, 20.0]), np.array([500.0, 700.0, 10.0])
    img = rng.normal(mean, 1.5 * std, (9, 7, 3)).clip(0).astype(np.float32)
    # util/datasets.py SentinelNormalize, then torchvision ToTensor on the uint8 result (/ 255)
    low, high = mean - 2 * std, mean + 2 * std
    official = np.clip((img - low) / (high - low) * 255.0, 0, 255).astype(np.uint8).astype(np.float32) / 255
    out = SigmaRangeScale(mean, std)(dict(img=img))['img']
    assert out.dtype == np.float32 and np.array_equal(out, official)
    with pytest.raises(ValueError, match='3 bands but x.tif gave 2'):
        SigmaRangeScale(mean, std)(dict(img=img[..., :2], img_path='x.tif'))
