import pytest
import torch

from mmrsfm.models.utils.masking import random_masking, unshuffle


@pytest.mark.parametrize('length,ratio,keep', [(16, 0.75, 4), (10, 0.9, 1), (7, 0.0, 7), (1, 0.9, 1)])
def test_random_masking_keeps_visible_tokens_in_place(length, ratio, keep):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, length, 5)
    kept, mask, ids_restore = random_masking(x, ratio, generator=g)
    assert kept.shape == (3, keep, 5)
    assert mask.sum(1).tolist() == [length - keep] * 3
    restored = unshuffle(kept, torch.full((1, 1, 5), 7.), ids_restore)
    visible = mask[..., None] == 0
    assert torch.equal(restored[visible.expand_as(x)], x[visible.expand_as(x)])
    assert (restored[~visible.expand_as(x)] == 7.).all()


def test_random_masking_rejects_bad_ratio():
    with pytest.raises(ValueError, match='mask_ratio'):
        random_masking(torch.zeros(1, 4, 2), 1.0)
