# WHU building, aerial imagery (Ji et al. 2019), instance segmentation: data_root is the release folder
# "3. The cropped image tiles and raster labels" ({train,val,test}/{image,label}/*.tif, 512x512, 0.3 m),
# with instances made from the masks by `python tools/dataset_converters/whu_building.py data/whu-building`
# (connected components -> annotations/whu_building_{split}.json). 4736 train / 1036 val / 2416 test
# tiles, one class. Validation on val, tools/test.py on test. Metric: COCO bbox + segm mAP.
_base_ = './rs-coco-instance.py'
data_root = 'data/whu-building/'
metainfo = dict(classes=('building', ), palette=[(220, 20, 60)])
train_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo,
                                     ann_file='annotations/whu_building_train.json',
                                     data_prefix=dict(img='train/image/')))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo,
                                   ann_file='annotations/whu_building_val.json', data_prefix=dict(img='val/image/')))
test_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo,
                                    ann_file='annotations/whu_building_test.json', data_prefix=dict(img='test/image/')))
val_evaluator = dict(ann_file=data_root + 'annotations/whu_building_val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/whu_building_test.json')
