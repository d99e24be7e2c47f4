# NWPU-RESISC45 (45 classes of 700 images, 256 x 256 JPEG) as released: data/NWPU-RESISC45/<class>/*.jpg.
# No official split: 10 % or 20 % train per class, the rest test:
#   python tools/dataset_converters/scene_split.py data/NWPU-RESISC45 --ratio 0.1   # -> {train,test}_10.txt
_base_ = './aid.py'
dataset_type = 'mmrsfm.NWPUResisc45Dataset'
data_root = 'data/NWPU-RESISC45/'
train_split, test_split = 'train_10.txt', 'test_10.txt'
num_classes = 45
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, split_file=train_split))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, split_file=test_split))
test_dataloader = val_dataloader
