"""MAEPretrainer: the loss against a hand computation, encoding of kept tokens only, equivalence of the
encoder pass with the backbone's forward, gradients, a falling loss, any band count, FSDP helpers."""
import math

import pytest
import torch
from torch import nn

from mmrsfm.models.backbones.scalable_vit import TransformerBlock
from mmrsfm.engine.fsdp import is_vit_block, vit_block_auto_wrap_policy
from mmrsfm.models.pretrainers.mae_pretrainer import MAEPretrainer, patchify, sincos_2d_pos_embed, unpatchify
from mmrsfm.models.utils.masking import random_masking
from mmrsfm.registry import FUNCTIONS, MODELS

TINY = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


def build(in_channels=3, img_size=32, **kw) -> MAEPretrainer:
    torch.manual_seed(0)
    cfg = dict(type='mmrsfm.MAEPretrainer',
               backbone=dict(type='mmrsfm.ScalableViT', arch=TINY, in_channels=in_channels, img_size=img_size,
                             patch_size=8, window_size=0),
               decoder_embed_dims=16, decoder_depth=1, decoder_num_heads=2, **kw)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def reconstruct(model: MAEPretrainer, imgs: torch.Tensor, seed: int) -> dict:
    """One MAE pass through the pretrainer contract, with a seeded mask: ``dict(loss, pred, mask)``."""
    latent, mask, ids_restore, grid = model.forward_encoder(imgs, generator=torch.Generator().manual_seed(seed))
    pred = model.forward_decoder(latent, ids_restore, grid)
    return dict(model.forward_loss(imgs, pred, mask), pred=pred, mask=mask.float())


def test_loss_matches_a_hand_computation():
    model = build().eval()
    imgs = torch.randn(2, 3, 32, 32)
    out = reconstruct(model, imgs, 3)
    mask, pred = out['mask'], out['pred']  # (2, 16), (2, 16, 8 * 8 * 3)
    assert mask.shape == (2, 16) and torch.equal(mask.sum(1), torch.tensor([12., 12.]))  # 75% of 16 patches
    # The same generator state gives the same mask as random_masking on the token sequence.
    _, ref_mask, _ = random_masking(torch.zeros(2, 16, 1), 0.75, torch.Generator().manual_seed(3))
    assert torch.equal(mask, ref_mask)
    total, count = 0., 0
    for b in range(2):
        for i in range(4):
            for j in range(4):
                n = i * 4 + j
                if mask[b, n] == 0:
                    continue
                patch = imgs[b, :, 8 * i:8 * i + 8, 8 * j:8 * j + 8].permute(1, 2, 0).reshape(-1)  # (p, q, c)
                mu = patch.sum() / patch.numel()
                var = ((patch - mu)**2).sum() / (patch.numel() - 1)
                target = (patch - mu) / math.sqrt(var + 1e-6)
                total += ((pred[b, n] - target)**2).mean()
                count += 1
    assert count == 24
    torch.testing.assert_close(out['loss'], total / count, rtol=1e-5, atol=1e-6)


def test_encoder_sees_only_the_kept_patches():
    model = build().eval()
    imgs = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        ref = reconstruct(model, imgs, 0)
        grid_mask = ref['mask'].view(4, 4).repeat_interleave(8, 0).repeat_interleave(8, 1).bool()
        hidden = imgs.clone()
        hidden[:, :, grid_mask] = 100.  # change every dropped pixel
        same = reconstruct(model, hidden, 0)
        shown = imgs.clone()
        shown[:, :, ~grid_mask] += 1.  # change the visible pixels
        other = reconstruct(model, shown, 0)
    torch.testing.assert_close(same['pred'], ref['pred'], rtol=0, atol=0)
    assert (other['pred'] - ref['pred']).abs().max() > 1e-3


def test_encoder_pass_without_masking_equals_the_backbone_forward():
    """The kept-token pass (shuffled tokens as a one-row grid) is the backbone's own global attention."""
    model = build(mask_ratio=0.).eval()
    imgs = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        latent, mask, ids_restore, grid = model.forward_encoder(imgs, generator=torch.Generator().manual_seed(1))
        restored = latent.gather(1, ids_restore[..., None].expand(-1, -1, latent.shape[-1]))
        (ref, ) = model.backbone(imgs)  # (2, C, 4, 4)
    assert mask.sum() == 0 and grid == (4, 4)
    torch.testing.assert_close(restored, ref.flatten(2).transpose(1, 2), rtol=1e-5, atol=1e-5)


def test_gradients_reach_the_encoder_and_the_loss_falls():
    model = build(in_channels=5, img_size=16).train()  # 5 bands, 2x2 patches of 8
    model.backbone.with_cp = True  # also the checkpointed path
    imgs = torch.randn(4, 5, 16, 16)
    loss = model.loss(dict(opt=imgs))['loss']
    loss.backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
            # every encoder weight (patch embedding, blocks, final norm) is trained
    assert model.backbone.patch_embed.proj.weight.grad.abs().sum() > 0
    assert model.backbone.blocks[0].attn.qkv.weight.grad.abs().sum() > 0
    assert not model.backbone.pos_embed.requires_grad  # frozen sin-cos, as MAE
    model.zero_grad()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(60):  # overfit one batch with one mask (random pixels are otherwise unpredictable)
        loss = reconstruct(model, imgs, 0)['loss']
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5, losses


def test_predict_tensor_modes_and_bad_inputs():
    model = build(norm_pix_loss=False).eval()
    imgs = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        (out, ) = model(dict(opt=imgs), mode='predict')
        raw = model(imgs, mode='tensor')
    assert out.pred.shape == out.target.shape == (3, 32, 32) and out.mask.shape == (1, 32, 32)
    assert out.mask.mean() == 0.75 and out.mask_domain == 'pixel' and out.modality == 'opt'
    torch.testing.assert_close(out.target, imgs[0])  # raw pixels without norm_pix_loss
    assert raw.shape == (1, 16, 8 * 8 * 3)  # the decoder's patch predictions
    with pytest.raises(KeyError, match="modality='opt'"):
        model(dict(sar=imgs), mode='loss')
    with pytest.raises(ValueError, match=r'expects \(B, 3, H, W\)'):
        model(torch.randn(1, 4, 32, 32), mode='loss')
    with pytest.raises(ValueError, match='divisible by the patch size'):
        model(torch.randn(1, 3, 36, 32), mode='loss')
    with pytest.raises(ValueError, match='window_size=0 and use_rel_pos=False'):
        MAEPretrainer(backbone=dict(type='mmrsfm.ScalableViT', arch=TINY, img_size=32, patch_size=8, window_size=2))


def test_patchify_and_sincos_follow_mae():
    imgs = torch.randn(2, 4, 16, 24)
    patches = patchify(imgs, (8, 8))
    assert patches.shape == (2, 6, 256)
    torch.testing.assert_close(patches[1, 4], imgs[1, :, 8:16, 8:16].permute(1, 2, 0).reshape(-1))
    torch.testing.assert_close(unpatchify(patches, (8, 8), (2, 3)), imgs)
    pe = sincos_2d_pos_embed(8, (2, 3))  # (1, 2, 3, 8): [sin x, cos x, sin y, cos y] for 2 frequencies
    omega = torch.tensor([1., 0.01])
    y, x = 1, 2
    expected = torch.cat([torch.sin(x * omega), torch.cos(x * omega), torch.sin(y * omega), torch.cos(y * omega)])
    torch.testing.assert_close(pe[0, y, x], expected)


def test_fsdp_wrap_policy_and_checkpoint_fn():
    model = build()
    blocks = [m for m in model.modules() if isinstance(m, TransformerBlock)]
    assert len(blocks) == 3  # 2 encoder + 1 decoder
    assert all(vit_block_auto_wrap_policy(m, recurse=False, nonwrapped_numel=0) for m in blocks)
    assert not vit_block_auto_wrap_policy(model.backbone.patch_embed, recurse=False, nonwrapped_numel=0)
    assert vit_block_auto_wrap_policy(model, recurse=True, nonwrapped_numel=0)
    assert is_vit_block(blocks[0]) and not is_vit_block(nn.Linear(2, 2))
    # Strategies look them up by name in the root FUNCTIONS registry (mmengine's FSDP wrapper).
    from mmengine.registry import FUNCTIONS as ROOT
    assert ROOT.get('mmrsfm.vit_block_auto_wrap_policy') is vit_block_auto_wrap_policy
    assert FUNCTIONS.get('is_vit_block') is is_vit_block
