"""RS4D feature distiller: schedule, degradation, frozen strict teacher, learning, tools/train.py."""
import os.path as osp
import re

import pytest
import torch
from mmengine.logging import MessageHub

from conftest import REPO, SINGLE_THREAD, run_tool, write_child_config
from mmrsfm.models.distillers import FeatureDistiller, ramp
from mmrsfm.registry import MODELS

TEACHER = dict(type='mmrsfm.ScalableViT', arch=dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
               img_size=32, patch_size=8, window_size=0)
STUDENT = dict(type='mmrsfm.ScalableViT', arch=dict(embed_dims=16, num_layers=1, num_heads=2, feedforward_channels=32),
               img_size=32, patch_size=4, window_size=0)


@pytest.fixture
def one_thread():
    """Tiny models train faster on one intra-op thread, far faster on busy cores (see conftest.SINGLE_THREAD)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(**kwargs) -> FeatureDistiller:
    cfg = dict(type='mmrsfm.FeatureDistiller', student=STUDENT, teacher=TEACHER, mask_patch_size=8)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_fixed_and_ramped_levels():
    for noise, mask in ((0.2, 0.2), (0.1, 0.0), (0.0, 0.1), (0.3, 0.3)):  # the official fixed settings
        assert build(noise_std=noise, mask_ratio=mask).levels(0.37) == (noise, mask)
    assert ramp((0.0, 0.2), 0.25, ramp_fraction=0.5, mode='linear') == pytest.approx(0.1)
    assert ramp((0.0, 0.2), 0.25, ramp_fraction=0.5, mode='cosine') == pytest.approx(0.1)
    assert ramp((0.0, 0.2), 0.125, ramp_fraction=0.5, mode='cosine') == pytest.approx(0.1 * (1 - 2**-0.5))
    assert ramp((0.0, 0.2), 0.9, ramp_fraction=0.5) == pytest.approx(0.2)
    model = build(noise_std=(0.0, 0.4), mask_ratio=(0.1, 0.3), ramp_fraction=1.0, ramp_mode='linear')
    hub = MessageHub.get_instance('test_distiller_levels')  # the latest instance is the current one
    hub.update_info('max_iters', 100)
    hub.update_info('iter', 50)
    assert model.levels() == pytest.approx((0.2, 0.2))
    losses = model(dict(opt=torch.randn(1, 3, 32, 32)))
    assert losses['noise_std'].item() == pytest.approx(0.2) and losses['mask_ratio'].item() == pytest.approx(0.2)
    with pytest.raises(ValueError, match='mask_ratio must be'):
        build(mask_ratio=1.0)


def test_degrade_masks_an_exact_share_of_patches_and_adds_noise():
    model = build()
    x = torch.randn(3, 3, 32, 40) + 5  # no pixel is 0 before masking
    masked = model.degrade(x, 0.0, 0.25)  # 4 x 5 = 20 patches of 8 px, 5 masked per image
    patch_zero = (masked == 0).all(1).view(3, 4, 8, 5, 8).all(4).all(2)
    assert patch_zero.sum((1, 2)).tolist() == [5, 5, 5]
    assert ((masked == 0) == patch_zero.repeat_interleave(8, 1).repeat_interleave(8, 2)[:, None]).all()
    noisy = model.degrade(torch.zeros(4, 3, 64, 64), 0.3, 0.0)
    assert noisy.std().item() == pytest.approx(0.3, rel=0.05)


def test_teacher_is_loaded_strictly_and_frozen(tmp_path):
    source = MODELS.build(TEACHER)
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in source.state_dict().items()}}, tmp_path / 't.pth')
    model = build(teacher_checkpoint=str(tmp_path / 't.pth'), teacher_prefix='backbone.')
    model.init_weights()
    for k, v in source.state_dict().items():
        torch.testing.assert_close(model.teacher.state_dict()[k], v)
    model.train()
    assert not model.teacher.training and model.student.training
    model(dict(opt=torch.randn(2, 3, 32, 32)))['loss_distill'].backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is not None for p in [*model.student.parameters(), *model.align.parameters()])
    saved = model.state_dict()  # checkpoints hold the student and the projection only
    assert saved and not any(k.startswith('teacher.') for k in saved)
    assert set(model.load_state_dict(saved, strict=False).missing_keys) == {
        f'teacher.{k}' for k in source.state_dict()}
    with pytest.raises(KeyError, match=r"t\.pth does not match the teacher config"):
        build(teacher_checkpoint=str(tmp_path / 't.pth'), teacher=dict(TEACHER, patch_size=4)).init_weights()
    with pytest.raises(KeyError, match="no key starts with teacher_prefix 'module.'"):
        build(teacher_checkpoint=str(tmp_path / 't.pth'), teacher_prefix='module.').init_weights()


def test_official_sam_checkpoint_loads_into_a_sam_like_vit(tmp_path):
    sam_like = dict(TEACHER, window_size=2, use_rel_pos=True, final_norm=False)
    source = MODELS.build(sam_like)
    sam = {'image_encoder.' + k.replace('.mlp.fc', '.mlp.lin'): v for k, v in source.state_dict().items()}
    sam.update({'image_encoder.neck.0.weight': torch.zeros(8, 32, 1, 1),
                'mask_decoder.iou_token.weight': torch.zeros(1, 8)})
    torch.save(sam, tmp_path / 'sam.pth')
    model = build(teacher=sam_like, teacher_checkpoint=str(tmp_path / 'sam.pth'))
    model.init_weights()
    torch.testing.assert_close(model.teacher.blocks[1].mlp.fc2.weight, source.blocks[1].mlp.fc2.weight)
    torch.testing.assert_close(model.teacher.blocks[0].attn.rel_pos_h, source.blocks[0].attn.rel_pos_h)


def test_student_learns_the_teacher_features(one_thread):
    torch.manual_seed(0)
    model = build(noise_std=0.1, mask_ratio=0.25, student=dict(STUDENT, patch_size=8))
    model.init_weights()
    x = torch.randn(2, 3, 32, 32)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(40):
        loss = model(dict(opt=x))['loss_distill']
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5, losses[::5]


@pytest.mark.e2e
def test_distill_with_train_py_then_init_an_instance_seg_backbone(tmp_path):
    from mmrsfm.datasets.synthetic import make_optical_sar_pairs
    data = str(tmp_path / 'images')
    make_optical_sar_pairs(data, num_train=8, size=64, seed=0)
    teacher = MODELS.build(dict(TEACHER, img_size=64, patch_size=16))
    torch.save({'state_dict': teacher.state_dict()}, tmp_path / 'teacher.pth')
    child = f"""
data_root = '{data}/'
model = dict(
    teacher=dict(_delete_=True, type='ScalableViT', arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                 feedforward_channels=64), img_size=64, window_size=0),
    teacher_checkpoint='{tmp_path}/teacher.pth', teacher_channels=32, student_channels=32,
    student=dict(_delete_=True, type='RSMamba', arch=dict(embed_dims=32, num_layers=2, feedforward_channels=64),
                 img_size=64, out_indices=(-1, )))
train_pipeline = [dict(type='LoadMultiModalImages'), dict(type='PairedRandomCropFlip', crop_size=(64, 64)),
                  dict(type='PackMultiModalInputs')]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, data_prefix=dict(opt='optical/'), pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = []
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=12)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=12), logger=dict(interval=1))
log_processor = dict(by_epoch=False)
"""
    config = write_child_config(str(tmp_path / 'distill.py'),
                                'configs/pretrain/rs4d/distill_rsmamba-base_sam-vit-b_4xb4-20e_sa1b-1024.py', child)
    out = run_tool(['tools/train.py', config, '--work-dir', str(tmp_path / 'work')], env=SINGLE_THREAD).stdout
    assert 'loaded the teacher from' in out
    noise = [float(v) for v in re.findall(r'Iter\(train\) \[\s*\d+/12\].*?noise_std: ([\d.]+)', out)]
    assert len(noise) == 12 and noise[0] < 0.01 and noise[-1] == pytest.approx(0.2, abs=1e-3)  # the ramp

    # The student initialises a downstream backbone through init_cfg's prefix.
    ckpt = osp.join(tmp_path, 'work', 'iter_12.pth')
    saved = torch.load(ckpt, weights_only=True)['state_dict']
    backbone = MODELS.build(dict(type='mmrsfm.RSMamba', arch=dict(embed_dims=32, num_layers=2, feedforward_channels=64),
                                 img_size=64, init_cfg=dict(type='Pretrained', checkpoint=ckpt, prefix='student.')))
    backbone.init_weights()
    for k, v in backbone.state_dict().items():
        torch.testing.assert_close(v, saved['student.' + k])
    assert not any(k.startswith('teacher.') for k in saved)  # the frozen teacher is not saved
    assert osp.isfile(osp.join(REPO, 'configs/pretrain/rs4d/distill_rsmamba-base_sam-vit-b_4xb4-20e_sa1b-1024.py'))
