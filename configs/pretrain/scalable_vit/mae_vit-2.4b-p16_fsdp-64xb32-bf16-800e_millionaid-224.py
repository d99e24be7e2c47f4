# MAE pretraining of ScalableViT-2.4b/16 with FSDP (see the 1.3b config). 64 GPUs x 32 images.
_base_ = ['./mae_vit-1.3b-p16_fsdp-32xb64-bf16-800e_millionaid-224.py']
model = dict(backbone=dict(arch='2.4b'))
train_dataloader = dict(batch_size=32)
