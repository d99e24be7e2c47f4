# ViT-86M (billion-scale RS ViT family) fine-tuned on AID 20 %, MAE's fine-tuning recipe; the data
# pipeline is the datasets' (resize to 224), the same as RS-vHeat's, so backbones compare on one protocol.
# The billion-scale paper reports no scene classification.
_base_ = [
    '../../_base_/models/cls_vit-86m.py', '../../_base_/datasets/aid.py',
    '../../_base_/schedules/cls_mae-finetune-100e.py'
]
num_classes = {{_base_.num_classes}}
model = dict(data_preprocessor=dict(num_classes=num_classes), head=dict(num_classes=num_classes))
train_dataloader = dict(batch_size=128)  # per GPU, x 8 GPUs = 1024 (MAE)
