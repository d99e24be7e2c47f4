# RS4D "prompt" head (official `QinzheYang/RS4D` `_base_/rs4d_anchor.py`, RSPrompter-anchor): the Mask R-CNN
# box branch (RPN anchor scales [4, 8]) with mmrsfm.PromptRoIHead: 14x14 RoI features -> 5-point prompts
# -> a SAM mask decoder over the stride-16 pyramid level (the image embedding) -> a whole-image mask per
# RoI. Same backbone and neck as the bbox head. As in RS4D, the decoder starts from SAM ViT-B's (the official
# sam_vit_b_01ec64.pth, the distillation teacher's file, or HF sam-vit-base's pytorch_model.bin);
# mask_head.sam_checkpoint=None trains it from scratch, box_prompt=True adds SAM box prompts (not in RS4D).
_base_ = './rs4d_mask-rcnn_rsmamba-base_agg-sfpn.py'
model = dict(
    neck=[  # the official prompt configs fuse layers 2, 4, ..., 22 (the bbox ones 1, 3, ..., 23)
        dict(type='mmrsfm.LayerAggregator', in_channels=256, layer_indices=list(range(2, 24, 2)), hidden_channels=32,
             out_channels=256),
        dict(type='mmrsfm.SimpleFPN', in_channels=256, out_channels=256, num_outs=5),
    ],
    rpn_head=dict(anchor_generator=dict(scales=[4, 8])),
    roi_head=dict(
        type='mmrsfm.PromptRoIHead',
        embed_level=2,  # SimpleFPN's stride-16 level
        mask_roi_extractor=dict(roi_layer=dict(output_size=14)),
        mask_head=dict(
            _delete_=True,
            type='mmrsfm.PromptMaskHead',
            in_channels=256,
            roi_feat_size=14,
            num_points=5,
            sam_checkpoint='checkpoints/sam_vit_b_01ec64.pth',
            loss_mask=dict(type='mmdet.CrossEntropyLoss', use_mask=True, loss_weight=1.0))))
# The single-mask path leaves SAM's 3 ambiguity-mask MLPs (and the IoU head, unless
# mask_head.loss_iou_weight > 0) without gradients, which DDP must be told about.
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
