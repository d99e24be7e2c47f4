"""mmdet RoI head that feeds :class:`~mmrsfm.models.heads.PromptMaskHead` its image embedding."""
from typing import List, Optional, Tuple

import torch
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.structures.bbox import bbox2roi
from mmengine.structures import InstanceData

from mmrsfm.registry import MODELS


@MODELS.register_module()
class PromptRoIHead(StandardRoIHead):
    """mmdet's ``StandardRoIHead`` (box branch unchanged) whose mask branch is prompt-based.

    The image embedding of the SAM-style decoder is one level of the detector's feature pyramid,
    ``x[embed_level]`` (by default the stride-16 level of ``SimpleFPN``, i.e. the projected backbone
    map itself), so any mmdet two-stage detector (``mmdet.MaskRCNN``) runs it unchanged through
    ``tools/train.py`` / ``tools/test.py``. The mask head's ``mask_stride`` is set to a quarter of that
    level's stride (the decoder upscales 4x).

    Args:
        embed_level: Index of the pyramid level used as image embedding. Defaults to 2.
        **kwargs: ``StandardRoIHead`` arguments; ``mask_roi_extractor`` is required (the prompts are
            made from their own, larger RoI features).
    """

    def __init__(self, *args, embed_level: int = 2, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.with_mask and self.share_roi_extractor:
            raise ValueError('PromptRoIHead needs its own mask_roi_extractor (e.g. 14x14 RoIAlign)')
        self.embed_level = embed_level
        if self.with_mask:
            strides = self.mask_roi_extractor.featmap_strides
            if not 0 <= embed_level < len(strides):
                raise ValueError(f'PromptRoIHead: embed_level={embed_level} is not one of the '
                                 f'{len(strides)} levels of mask_roi_extractor.featmap_strides={strides}')
            if strides[embed_level] % 4:
                raise ValueError(f'PromptRoIHead: embedding stride {strides[embed_level]} must be a multiple of 4')
            self.mask_head.mask_stride = strides[embed_level] // 4

    def _mask_forward(self, x: Tuple[torch.Tensor], rois: Optional[torch.Tensor] = None,
                      pos_inds: Optional[torch.Tensor] = None,
                      bbox_feats: Optional[torch.Tensor] = None) -> dict:
        """``dict(mask_preds=(N, 1, h', w') logits, iou_preds=(N, 1), mask_feats=RoI features)``."""
        if rois is None:
            raise ValueError('PromptRoIHead predicts masks from RoIs, not shared box features')
        mask_feats = self.mask_roi_extractor(x[:self.mask_roi_extractor.num_inputs], rois)
        if self.with_shared_head:
            mask_feats = self.shared_head(mask_feats)
        logits, iou = self.mask_head(mask_feats, x[self.embed_level], rois)
        return dict(mask_preds=logits, iou_preds=iou, mask_feats=mask_feats)

    def mask_loss(self, x: Tuple[torch.Tensor], sampling_results: list, bbox_feats: torch.Tensor,
                  batch_gt_instances: List[InstanceData]) -> dict:
        """Mask loss on the positive RoIs (and, optionally, the IoU-prediction loss)."""
        pos_rois = bbox2roi([res.pos_priors for res in sampling_results])
        mask_results = self._mask_forward(x, pos_rois)
        loss_and_target = self.mask_head.loss_and_target(
            mask_preds=mask_results['mask_preds'], sampling_results=sampling_results,
            batch_gt_instances=batch_gt_instances, rcnn_train_cfg=self.train_cfg,
            iou_preds=mask_results['iou_preds'])
        mask_results.update(loss_mask=loss_and_target['loss_mask'])
        return mask_results
