# RS-vHeat-B fine-tuned on AID, 20 % of each class for training (reported OA 96.81), official recipe.
_base_ = [
    '../../_base_/models/cls_rs-vheat-base.py', '../../_base_/datasets/aid.py',
    '../../_base_/schedules/cls_rs-vheat_8xb180-800e.py'
]
num_classes = {{_base_.num_classes}}
model = dict(data_preprocessor=dict(num_classes=num_classes), head=dict(num_classes=num_classes))
train_dataloader = dict(batch_size=180)  # per GPU, x 8 GPUs
