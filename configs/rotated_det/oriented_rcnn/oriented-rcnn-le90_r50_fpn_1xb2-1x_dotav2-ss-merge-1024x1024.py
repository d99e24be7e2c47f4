# Oriented R-CNN (le90), ResNet-50 + FPN on DOTA v2.0, scored on WHOLE images: validation and tools/test.py
# merge the patch predictions back into the full val images (offset and scale undone, rotated NMS across
# patches) with mmrsfm.DOTAMergeMetric and compute the devkit's VOC07 mAP against the full-image labelTxt,
# i.e. the number the evaluation server would give. (The plain ..._dotav2-ss-... config scores patches
# with mmrotate's DOTAMetric.) No `_delete_` / --cfg-options needed: swapping test_evaluator.type alone
# fails, because mmrotate's DOTAMetric arguments (metric='mAP') are merged into the new evaluator.
# Train on train patches and evaluate on every patch of val (split without labels, so no patch is dropped):
#   python tools/dataset_converters/dota_split.py --img-dirs data/DOTA2_0/train/images \
#       --ann-dirs data/DOTA2_0/train/labelTxt --out-dir data/split_ss_dota2_0/train --fill 104 116 124
#   python tools/dataset_converters/dota_split.py --img-dirs data/DOTA2_0/val/images \
#       --out-dir data/split_ss_dota2_0/val --fill 104 116 124
_base_ = ['./oriented-rcnn-le90_r50_fpn_1xb2-1x_dotav2-ss-1024x1024.py']

full_image_labels = 'data/DOTA2_0/val/labelTxt/'
train_dataloader = dict(dataset=dict(ann_file='train/annfiles/', data_prefix=dict(img_path='train/images/')))
val_dataloader = dict(
    dataset=dict(ann_file='', data_prefix=dict(img_path='val/images/'), pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='mmrsfm.DOTAMergeMetric', ann_dir=full_image_labels)
test_evaluator = dict(
    _delete_=True,
    type='mmrsfm.DOTAMergeMetric',
    ann_dir=full_image_labels,
    outfile_prefix='work_dirs/oriented-rcnn-le90_r50_fpn_1xb2-1x_dotav2-ss-merge-1024x1024/Task1_val')
