# RS4D "bbox" head (official `QinzheYang/RS4D` `_base_/samseg-maskrcnn.py`): mmdet's Mask R-CNN (RPN anchor
# scales [8], 4-conv FCN mask head with 28x28 masks, RCNN sampler 512) on a distilled RSMamba-base:
# every layer's stride-16 map -> mmrsfm.LayerAggregator (every other layer, hidden 32, out 256) ->
# mmrsfm.SimpleFPN (LN2d, strides 4-64). The backbone starts from a distillation checkpoint
# (configs/pretrain/rs4d), whose student sits under 'student.'.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'
model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
                           pad_size_divisor=32),
    backbone=dict(
        _delete_=True,
        type='mmrsfm.RSMamba',
        arch='base',
        img_size=1024,
        out_indices=None,  # every layer: the aggregator picks its own
        init_cfg=dict(type='Pretrained', checkpoint='work_dirs/distill_rsmamba-base_sam-vit-b_4xb4-20e_sa1b-1024/'
                      'epoch_20.pth', prefix='student.')),
    neck=[
        dict(type='mmrsfm.LayerAggregator', in_channels=256, layer_indices=list(range(1, 24, 2)), hidden_channels=32,
             out_channels=256),
        dict(type='mmrsfm.SimpleFPN', in_channels=256, out_channels=256, num_outs=5),
    ])
