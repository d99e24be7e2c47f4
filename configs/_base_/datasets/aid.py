# AID (30 classes, 600 x 600 JPEG) as released: data/AID/<Class>/<class>_<n>.jpg. No official split: the
# protocol draws a per-class random train share (20 % or 50 %) and tests on the rest. Write the lists once:
#   python tools/dataset_converters/scene_split.py data/AID --ratio 0.2   # -> data/AID/{train,test}_20.txt
# Pipeline of the RS-vHeat fine-tuning code (data/build.py): resize to 224 (bicubic), no crop, no flip.
dataset_type = 'mmrsfm.AIDDataset'
data_root = 'data/AID/'
train_split, test_split = 'train_20.txt', 'test_20.txt'
num_classes = 30
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224), interpolation='bicubic', backend='pillow'),
    dict(type='PackInputs')
]
test_pipeline = train_pipeline
loader = dict(num_workers=4, persistent_workers=True)
train_dataloader = dict(
    batch_size=32,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split_file=train_split, pipeline=train_pipeline),
    **loader)
val_dataloader = dict(
    batch_size=64,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split_file=test_split, pipeline=test_pipeline),
    **loader)
test_dataloader = val_dataloader
# OA, then per-class accuracy (recall of each class, in class order) for the confusion analysis.
val_evaluator = [dict(type='Accuracy', topk=(1, )), dict(type='SingleLabelMetric', items=('recall', ), average=None)]
test_evaluator = val_evaluator
