# SSDD (Official-SSDD release, Zhang et al. 2021), instance segmentation: the polygon annotations of
# Official-SSDD-OPEN/PSeg_SSDD/coco_style, read as they are (check them first with
# `python tools/dataset_converters/ssdd.py data/ssdd`). 1160 SAR images, one class; the official split
# (file number ending in 1 or 9 = test): 928 train / 232 test images. Metric: COCO bbox + segm mAP.
_base_ = './rs-coco-instance.py'
data_root = 'data/ssdd/PSeg_SSDD/coco_style/'
metainfo = dict(classes=('ship', ), palette=[(220, 20, 60)])
train_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='annotations/train.json',
                                     data_prefix=dict(img='images/train/')))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='annotations/test.json',
                                   data_prefix=dict(img='images/test/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/test.json')
test_evaluator = val_evaluator
