# Oriented R-CNN (le90) with RS-vHeat-B on DOTA v2.0, scored on WHOLE images (mmrsfm.DOTAMergeMetric: patch
# predictions merged into the full val images, devkit VOC07 mAP against the full-image labelTxt); model and
# optimiser as ..._rs-vheat-base_fpn_1xb2-1x_dotav2-ss-1024x1024.py, data as
# ..._r50_fpn_1xb2-1x_dotav2-ss-merge-1024x1024.py (its header has the two dota_split.py commands).
_base_ = ['./oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_dotav2-ss-1024x1024.py']

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
    outfile_prefix='work_dirs/oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_dotav2-ss-merge-1024x1024/Task1_val')
