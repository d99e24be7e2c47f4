# Inference on the unlabelled FAIR1M-2.0 test images for the ISPRS benchmark server: patch predictions are
# merged into whole images (Task1_{category}.txt + zip), then written as one xml per image with the official
# category names:
#   python tools/dataset_converters/dota_split.py --img-dirs data/FAIR1M2_0/test/images \
#       --out-dir data/split_ss_fair1m2_0/test --fill 104 116 124
#   python tools/test.py THIS_CONFIG work_dirs/.../epoch_12.pth
#   python tools/dataset_converters/fair1m.py to-xml \
#       --task1-dir work_dirs/oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_fair1mv2-ss-test-1024x1024/Task1 \
#       --out-dir work_dirs/oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_fair1mv2-ss-test-1024x1024/xml
_base_ = ['./oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_fair1mv2-ss-1024x1024.py']

test_dataloader = dict(dataset=dict(data_prefix=dict(img_path='test/images/')))
test_evaluator = dict(
    _delete_=True,
    type='mmrsfm.DOTAMergeMetric',
    outfile_prefix='work_dirs/oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_fair1mv2-ss-test-1024x1024/Task1')
