# Inference on the unlabelled DOTA v2.0 test patches for the evaluation server: patch predictions are
# mapped back to the full images, merged by rotated NMS and written as Task1_{category}.txt + Task1.zip.
#   python tools/test.py THIS_CONFIG work_dirs/.../epoch_12.pth
_base_ = ['./oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_dotav2-ss-1024x1024.py']

test_dataloader = dict(
    dataset=dict(ann_file='', data_prefix=dict(img_path='test/images/'), pipeline={{_base_.test_pipeline}}))
test_evaluator = dict(
    _delete_=True,
    type='mmrsfm.DOTAMergeMetric',
    outfile_prefix='work_dirs/oriented-rcnn-le90_rs-vheat-base_fpn_1xb2-1x_dotav2-ss-1024x1024/Task1')
