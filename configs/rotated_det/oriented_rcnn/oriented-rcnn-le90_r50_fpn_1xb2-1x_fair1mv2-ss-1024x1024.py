# Oriented R-CNN (le90), ResNet-50 + FPN on FAIR1M-2.0 (37 fine-grained categories): the DOTA v2.0 recipe
# of ..._dotav2-ss-merge-1024x1024.py (1024 px patches, 200 px overlap; validation merges the patch
# predictions into whole images and scores them with mmrsfm.DOTAMergeMetric) with FAIR1M's data.
# Scoring: FAIR1M-2.0 is ranked on the ISPRS benchmark server by mAP at IoU 0.5; its scorer is not public,
# so validation uses the DOTA devkit's protocol (polygon IoU > 0.5, VOC07 11-point AP, the metric's default;
# eval_mode='area' gives the all-point AP). No FAIR1M scorer was available to check the choice against.
# Data: convert each labelled folder of the release, then split as DOTA (commands in the header of
# tools/dataset_converters/fair1m.py):
#   python tools/dataset_converters/fair1m.py to-dota --xml-dir data/FAIR1M2_0/validation/labelXml \
#       --img-dir data/FAIR1M2_0/validation/images --out-dir data/FAIR1M2_0/validation/labelTxt
#   (likewise train/part1 and train/part2), then
#   python tools/dataset_converters/dota_split.py --classes fair1m-2.0 \
#       --img-dirs data/FAIR1M2_0/train/part{1,2}/images --ann-dirs data/FAIR1M2_0/train/part{1,2}/labelTxt \
#       --out-dir data/split_ss_fair1m2_0/train --fill 104 116 124
#   python tools/dataset_converters/dota_split.py --img-dirs data/FAIR1M2_0/validation/images \
#       --out-dir data/split_ss_fair1m2_0/val --fill 104 116 124
_base_ = ['./oriented-rcnn-le90_r50_fpn_1xb2-1x_dotav2-ss-merge-1024x1024.py']

dataset_type = 'mmrsfm.FAIR1MDataset'
data_root = 'data/split_ss_fair1m2_0/'
full_image_labels = 'data/FAIR1M2_0/validation/labelTxt/'
model = dict(roi_head=dict(bbox_head=dict(num_classes=37)))
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_dir=full_image_labels)
test_evaluator = dict(
    ann_dir=full_image_labels,
    outfile_prefix='work_dirs/oriented-rcnn-le90_r50_fpn_1xb2-1x_fair1mv2-ss-1024x1024/Task1_val')
