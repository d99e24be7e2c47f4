# ViT-86M fine-tuned on NWPU-RESISC45 10 %; see the AID 20 % config.
_base_ = [
    '../../_base_/models/cls_vit-86m.py', '../../_base_/datasets/nwpu-resisc45.py',
    '../../_base_/schedules/cls_mae-finetune-100e.py'
]
num_classes = {{_base_.num_classes}}
model = dict(data_preprocessor=dict(num_classes=num_classes), head=dict(num_classes=num_classes))
train_dataloader = dict(batch_size=128)  # per GPU, x 8 GPUs = 1024 (MAE)
