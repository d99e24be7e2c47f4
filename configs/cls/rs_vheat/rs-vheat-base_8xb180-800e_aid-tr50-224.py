# RS-vHeat-B on AID, 50 % of each class for training (reported OA 97.58), official recipe.
#   python tools/dataset_converters/scene_split.py data/AID --ratio 0.5
_base_ = [
    '../../_base_/models/cls_rs-vheat-base.py', '../../_base_/datasets/aid.py',
    '../../_base_/schedules/cls_rs-vheat_8xb180-800e.py'
]
num_classes = {{_base_.num_classes}}
model = dict(data_preprocessor=dict(num_classes=num_classes), head=dict(num_classes=num_classes))
train_dataloader = dict(batch_size=180, dataset=dict(split_file='train_50.txt'))  # per GPU, x 8 GPUs
val_dataloader = dict(dataset=dict(split_file='test_50.txt'))
test_dataloader = val_dataloader
