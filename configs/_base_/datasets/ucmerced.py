# UC Merced Land Use (21 classes of 100 RGB TIFFs, mostly 256 x 256) as released:
# data/UCMerced_LandUse/Images/<class>/<class>NN.tif. No official split: usually 80 % train per class:
#   python tools/dataset_converters/scene_split.py data/UCMerced_LandUse/Images --ratio 0.8 \
#       --out-dir data/UCMerced_LandUse                                   # -> {train,test}_80.txt
_base_ = './aid.py'
dataset_type = 'mmrsfm.UCMercedDataset'
data_root = 'data/UCMerced_LandUse/'
train_split, test_split = 'train_80.txt', 'test_80.txt'
num_classes = 21
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, split_file=train_split))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, split_file=test_split))
test_dataloader = val_dataloader
