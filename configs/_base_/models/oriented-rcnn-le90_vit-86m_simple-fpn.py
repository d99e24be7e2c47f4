# Oriented R-CNN (le90) on a plain ViT, ViTDet style: mmrsfm.ScalableViT (arch '86m' = ViT-B/16) gives one
# stride-16 map, mmrsfm.SimpleFPN turns it into strides 4-32 (+ a max-pooled stride-64 level for the RPN).
# Backbone as ViTDet fine-tunes it: window attention (14) with 4 evenly spaced global blocks (ScalableViT's
# defaults), decomposed relative position bias on (new tables, zero-initialised: MAE has none), drop path
# 0.1 (ViTDet-B). Heads, assigners, samplers and test settings are mmrotate's Oriented R-CNN le90 recipe
# (oriented_rcnn/oriented-rcnn-le90_r50_fpn_1x_dota.py), restated because mmrotate ships no model-only base.
#
# The backbone starts from an MAE pretraining on MillionAID (the paper's protocol): a checkpoint written by
# tools/train.py with an mmrsfm MAE pretraining config, whose keys carry the pretrainer's 'backbone.'
# prefix (stripped by init_cfg.prefix). For a backbone-only file, e.g. an official MAE / timm checkpoint
# converted by tools/model_converters/scalable_vit2mmrsfm.py, set init_cfg.prefix=None. The path is a placeholder (no
# weights are published): put the file there or override it (`--cfg-options model.backbone.init_cfg.checkpoint=`).
angle_version = 'le90'
model = dict(
    type='mmdet.FasterRCNN',
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        boxtype2tensor=False),
    backbone=dict(
        type='mmrsfm.ScalableViT',
        arch='86m',
        img_size=1024,  # design size of the position embedding / global rel-pos tables (resized otherwise)
        patch_size=16,
        window_size=14,
        use_rel_pos=True,
        drop_path_rate=0.1,
        with_cp=False,
        out_indices=(-1, ),
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/vit-86m_mae_millionaid.pth', prefix='backbone.')),
    neck=dict(
        type='mmrsfm.SimpleFPN',
        in_channels=768,  # the ViT width: 768 / 1024 / 1664 / 1664 for 86m / 605m / 1.3b / 2.4b
        out_channels=256,
        scale_factors=(4.0, 2.0, 1.0, 0.5),
        num_outs=5),
    rpn_head=dict(
        type='OrientedRPNHead',
        in_channels=256,
        feat_channels=256,
        anchor_generator=dict(
            type='mmdet.AnchorGenerator', scales=[8], ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64],
            use_box_type=True),
        bbox_coder=dict(
            type='MidpointOffsetCoder',
            angle_version=angle_version,
            target_means=[0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            target_stds=[1.0, 1.0, 1.0, 1.0, 0.5, 0.5]),
        loss_cls=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='mmdet.SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0)),
    roi_head=dict(
        type='mmdet.StandardRoIHead',
        bbox_roi_extractor=dict(
            type='RotatedSingleRoIExtractor',
            roi_layer=dict(type='RoIAlignRotated', out_size=7, sample_num=2, clockwise=True),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        bbox_head=dict(
            type='mmdet.Shared2FCBBoxHead',
            predict_box_type='rbox',
            in_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=18,  # DOTA v2.0; DIOR-R configs set 20
            reg_predictor_cfg=dict(type='mmdet.Linear'),
            cls_predictor_cfg=dict(type='mmdet.Linear'),
            bbox_coder=dict(
                type='DeltaXYWHTRBBoxCoder',
                angle_version=angle_version,
                norm_factor=None,
                edge_swap=True,
                proj_xy=True,
                target_means=(.0, .0, .0, .0, .0),
                target_stds=(0.1, 0.1, 0.2, 0.2, 0.1)),
            reg_class_agnostic=True,
            loss_cls=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='mmdet.SmoothL1Loss', beta=1.0, loss_weight=1.0))),
    train_cfg=dict(
        rpn=dict(
            assigner=dict(
                type='mmdet.MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1,
                iou_calculator=dict(type='RBbox2HBboxOverlaps2D')),
            sampler=dict(type='mmdet.RandomSampler', num=256, pos_fraction=0.5, neg_pos_ub=-1,
                         add_gt_as_proposals=False),
            allowed_border=0,
            pos_weight=-1,
            debug=False),
        rpn_proposal=dict(nms_pre=2000, max_per_img=2000, nms=dict(type='nms', iou_threshold=0.8), min_bbox_size=0),
        rcnn=dict(
            assigner=dict(
                type='mmdet.MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=False,
                iou_calculator=dict(type='RBboxOverlaps2D'),
                ignore_iof_thr=-1),
            sampler=dict(type='mmdet.RandomSampler', num=512, pos_fraction=0.25, neg_pos_ub=-1,
                         add_gt_as_proposals=True),
            pos_weight=-1,
            debug=False)),
    test_cfg=dict(
        rpn=dict(nms_pre=2000, max_per_img=2000, nms=dict(type='nms', iou_threshold=0.8), min_bbox_size=0),
        rcnn=dict(nms_pre=2000, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms_rotated', iou_threshold=0.1),
                  max_per_img=2000)))
