# RS4D distillation with the official run's fixed setting: 20 % noise, 20 % masked patches throughout.
_base_ = ['./distill_rsmamba-base_sam-vit-b_4xb4-20e_sa1b-1024.py']
model = dict(noise_std=0.2, mask_ratio=0.2)
