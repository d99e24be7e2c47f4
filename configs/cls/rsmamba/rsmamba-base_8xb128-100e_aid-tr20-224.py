# RSMamba-base (RS4D's student) fine-tuned on AID 20 %, MAE's fine-tuning recipe with layer decay 0.8 (24
# layers: 0.65 would leave the first layers at 3e-5 of the base lr); RS4D reports no scene classification.
_base_ = [
    '../../_base_/models/cls_rsmamba-base.py', '../../_base_/datasets/aid.py',
    '../../_base_/schedules/cls_mae-finetune-100e.py'
]
num_classes = {{_base_.num_classes}}
model = dict(data_preprocessor=dict(num_classes=num_classes), head=dict(num_classes=num_classes))
train_dataloader = dict(batch_size=128)  # per GPU, x 8 GPUs = 1024 (MAE)
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.8))
