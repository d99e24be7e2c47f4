# Oriented R-CNN (le90), ResNet-50 + FPN, exactly mmrotate's DOTA v1.0 recipe (1x: 12 epochs, SGD lr 0.005,
# batch 2 on one GPU) moved to DOTA v2.0 (18 categories). As in mmrotate, training and validation both
# read the single-scale trainval patches; results on the test split go to the evaluation server
# (`oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_dotav2-ss-test-1024x1024.py` shows how).
# Make the patches (1024 px, 200 px overlap, mmrotate's padding value) with:
#   python tools/dataset_converters/dota_split.py --img-dirs data/DOTA2_0/{train,val}/images \
#       --ann-dirs data/DOTA2_0/{train,val}/labelTxt --out-dir data/split_ss_dota2_0/trainval --fill 104 116 124
#   python tools/dataset_converters/dota_split.py --img-dirs data/DOTA2_0/test/images \
#       --out-dir data/split_ss_dota2_0/test --fill 104 116 124
_base_ = ['mmrotate::oriented_rcnn/oriented-rcnn-le90_r50_fpn_1x_dota.py']
custom_imports = dict(imports=['mmrsfm'], allow_failed_imports=False)

dataset_type = 'DOTAv2Dataset'
data_root = 'data/split_ss_dota2_0/'
model = dict(roi_head=dict(bbox_head=dict(num_classes=18)))
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
