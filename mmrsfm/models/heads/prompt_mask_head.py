"""Prompt-based instance masks (RSPrompter-anchor style) for mmdet's two-stage detectors.

Idea from Chen et al., "RSPrompter: Learning to Prompt for Remote Sensing Instance Segmentation
based on Visual Foundation Model" (TGRS 2024), anchor variant, as used by RS4D's prompt head (official
``_base_/rs4d_anchor.py`` in ``QinzheYang/RS4D``): each RoI's 14 x 14 features become a set of point
prompts for a SAM mask decoder, which predicts the instance's mask over the *whole* image embedding
(not a RoI-local patch). Written here from the papers; the decoder is
:class:`~mmrsfm.models.heads.SamMaskDecoder`.

Per RoI (``PromptMaskHead.forward``):

1. prompts: Conv3x3/s2 + BN + ReLU -> flatten -> Linear(C) -> ReLU -> Linear(C) -> ReLU ->
   Linear(2 C P), reshaped to P points of 2C values; the point embedding is ``sin(even) + odd``
   (a learned sinusoid, mirroring SAM's Fourier point encodings);
2. dense prompt: SAM's learned ``no_mask_embed`` broadcast over the grid;
3. SAM decoder on the RoI's image embedding + SAM random-Fourier grid encoding -> one mask-logit map
   at 4x the embedding resolution (stride ``mask_stride`` of the padded input).

Loss: binary cross-entropy (mmdet ``CrossEntropyLoss(use_mask=True)``) between the logits and the
RoI's ground-truth instance mask, padded like the batch and area-averaged to the logit grid (a soft
target; the official code upsamples the logits to the crop size instead, ~16x the memory), plus an
optional MSE between the decoder's IoU prediction and the actual IoU (SAM's IoU head). Masks are
class-agnostic (one map per RoI); the box head gives the class.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.utils import empty_instances
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.structures import InstanceData
from torch import nn

from mmrsfm.registry import MODELS
from ..converters.sam import convert_sam_decoder
from .sam_mask_decoder import SamMaskDecoder, SamPositionalEmbedding


@MODELS.register_module()
class PromptMaskHead(BaseModule):
    """RoI features -> point prompts -> SAM mask decoder over the whole image embedding.

    Args:
        in_channels: Channels of the RoI features and of the image embedding (= decoder width).
        roi_feat_size: Side of the RoI features. Defaults to 14.
        num_points: Points in each RoI's prompt set (RS4D/RSPrompter: 5). Defaults to 5.
        decoder: Keyword arguments of :class:`SamMaskDecoder` except ``dim``. Defaults to SAM's.
        box_prompt: Also prompt with the RoI box, as SAM encodes boxes: its two corners' random-Fourier
            encodings plus learned corner embeddings (``box_corner_embed``), two more sparse tokens.
            Not in RSPrompter-anchor/RS4D (False there); it tells the decoder where the RoI is, which
            RoI features alone do not, and speeds up training from scratch. Defaults to False.
        multimask_output: Use the decoder's 3 ambiguity masks and keep the one with the highest
            predicted IoU; False uses its single-mask token (RSPrompter). Defaults to False.
        mask_stride: Stride of the mask logits on the padded input; set by
            :class:`~mmrsfm.models.heads.PromptRoIHead` from the embedding level (stride / 4).
            Defaults to 4.
        loss_mask: mmdet loss config for (logits, soft targets, labels). Defaults to binary CE.
        loss_iou_weight: Weight of the IoU-prediction MSE; 0 disables it. Defaults to 0.
        sam_checkpoint: A SAM checkpoint (official ``sam_vit_b_01ec64.pth`` or HF ``sam-vit-base``
            ``pytorch_model.bin``) whose mask decoder, positional encoding, ``no_mask_embed`` (and box
            corner embeddings) start this head in :meth:`init_weights`, as RS4D/RSPrompter do; the
            prompt MLP stays freshly initialised. None trains from scratch. Defaults to None.
        init_cfg: mmengine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 roi_feat_size: int = 14,
                 num_points: int = 5,
                 decoder: Optional[dict] = None,
                 box_prompt: bool = False,
                 multimask_output: bool = False,
                 mask_stride: int = 4,
                 loss_mask: Optional[dict] = None,
                 loss_iou_weight: float = 0.0,
                 sam_checkpoint: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if roi_feat_size % 2:
            raise ValueError(f'PromptMaskHead: roi_feat_size={roi_feat_size} must be even (halved by a stride-2 conv)')
        self.in_channels, self.num_points = in_channels, num_points
        self.multimask_output, self.mask_stride, self.loss_iou_weight = multimask_output, mask_stride, loss_iou_weight
        c = in_channels
        self.point_embed = nn.Sequential(
            nn.Conv2d(c, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.Flatten(),
            nn.Linear(c * (roi_feat_size // 2)**2, c), nn.ReLU(inplace=True),
            nn.Linear(c, c), nn.ReLU(inplace=True),
            nn.Linear(c, 2 * c * num_points))
        self.no_mask_embed = nn.Embedding(1, c)
        self.pos_embed = SamPositionalEmbedding(c)
        self.mask_decoder = SamMaskDecoder(dim=c, **(decoder or {}))
        self.box_corner_embed = nn.Embedding(2, c) if box_prompt else None  # SAM: point_embeddings[2:4]
        self.sam_checkpoint = sam_checkpoint
        self.loss_mask = MMDET_MODELS.build(
            loss_mask or dict(type='mmdet.CrossEntropyLoss', use_mask=True, loss_weight=1.0))

    def init_weights(self) -> None:
        """Default init, then the SAM decoder weights of ``sam_checkpoint`` (checked key by key)."""
        super().init_weights()
        if self.sam_checkpoint is None:
            return
        ckpt = CheckpointLoader.load_checkpoint(self.sam_checkpoint, map_location='cpu')
        state, _ = convert_sam_decoder(ckpt, prefix='')  # dropped: SAM's image encoder, most of its prompt encoder
        if self.box_corner_embed is None:
            state.pop('box_corner_embed.weight', None)
        own = self.state_dict()
        wrong = [k for k, v in state.items() if k not in own or own[k].shape != v.shape]
        # only the prompt MLP (RoI features -> points) has no SAM counterpart
        wrong += [k for k in own if k not in state and not k.startswith('point_embed.')]
        if wrong:
            raise KeyError(f'PromptMaskHead: {self.sam_checkpoint} does not fit this head (in_channels='
                           f'{self.in_channels}, decoder settings): {wrong[:6]}; SAM decoders are 256 wide')
        self.load_state_dict(state, strict=False)
        print_log(f'PromptMaskHead: SAM mask decoder loaded from {self.sam_checkpoint}', logger='current')

    def prompts(self, roi_feats: torch.Tensor) -> torch.Tensor:
        """(N, C, s, s) RoI features -> (N, num_points, C) sparse prompt embeddings."""
        x = self.point_embed(roi_feats).view(roi_feats.shape[0], self.num_points, 2 * self.in_channels)
        return torch.sin(x[..., 0::2]) + x[..., 1::2]

    def box_prompts(self, boxes: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        """(N, 4) boxes (x1, y1, x2, y2) in pixels of the padded batch, ``size`` = its (H, W) ->
        (N, 2, C) corner tokens."""
        # SAM shifts box corners to pixel centres (+0.5) before normalising
        corners = (boxes.view(-1, 2, 2) + 0.5) / boxes.new_tensor([size[1], size[0]])  # (x, y) in [0, 1]
        return self.pos_embed(corners).to(boxes.dtype) + self.box_corner_embed.weight

    def forward(self, roi_feats: torch.Tensor, image_embeddings: torch.Tensor,
                rois: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Mask logits for N RoIs.

        Args:
            roi_feats: (N, C, s, s) RoI features.
            image_embeddings: (B, C, h, w) image embeddings of the batch.
            rois: (N, 5) RoIs ``(image index, x1, y1, x2, y2)`` in input pixels (mmdet's ``bbox2roi``).

        Returns:
            Logits (N, 1, 4h, 4w) and predicted IoUs (N, 1).
        """
        if image_embeddings.shape[1] != self.in_channels:
            raise ValueError(f'PromptMaskHead(in_channels={self.in_channels}) got an image embedding with '
                             f'{image_embeddings.shape[1]} channels; set the neck out_channels to match')
        n, (h, w) = roi_feats.shape[0], image_embeddings.shape[2:]
        if n == 0:  # still part of the graph, so every parameter gets a (zero) gradient
            zero = sum(p.sum() for p in self.parameters()) * 0
            return image_embeddings.new_zeros(0, 1, 4 * h, 4 * w) + zero, image_embeddings.new_zeros(0, 1)
        dense = self.no_mask_embed.weight.view(1, -1, 1, 1).expand(n, -1, h, w)
        sparse = self.prompts(roi_feats)
        if self.box_corner_embed is not None:
            stride = 4 * self.mask_stride  # of the image embedding
            sparse = torch.cat([sparse, self.box_prompts(rois[:, 1:], (h * stride, w * stride))], dim=1)
        logits, iou = self.mask_decoder(
            image_embeddings[rois[:, 0].long()], self.pos_embed.grid((h, w)).to(image_embeddings.dtype),
            sparse, dense, multimask_output=self.multimask_output)
        if self.multimask_output:  # SAM's inference rule: the mask the decoder trusts most
            best = iou.argmax(1)
            idx = torch.arange(n, device=iou.device)
            logits, iou = logits[idx, best].unsqueeze(1), iou[idx, best].unsqueeze(1)
        return logits, iou

    def get_targets(self, sampling_results: list, batch_gt_instances: List[InstanceData],
                    size: Tuple[int, int]) -> torch.Tensor:
        """Soft (N, h, w) targets on the logit grid: each positive RoI's instance mask, zero-padded
        to ``size * mask_stride`` (the padded batch) and area-averaged by ``mask_stride``."""
        s, out = self.mask_stride, []
        full = (size[0] * s, size[1] * s)
        for res, gt in zip(sampling_results, batch_gt_instances):
            if len(res.pos_assigned_gt_inds) == 0:
                continue
            masks = gt.masks[res.pos_assigned_gt_inds.cpu().numpy()].to_tensor(torch.float32, res.pos_priors.device)
            masks = masks[:, :full[0], :full[1]]
            masks = F.pad(masks, (0, full[1] - masks.shape[2], 0, full[0] - masks.shape[1]))
            out.append(F.avg_pool2d(masks.unsqueeze(1), s).squeeze(1))
        if not out:
            return torch.zeros(0, *size, device=sampling_results[0].pos_priors.device)
        return torch.cat(out)

    def loss_and_target(self, mask_preds: torch.Tensor, sampling_results: list,
                        batch_gt_instances: List[InstanceData], rcnn_train_cfg: ConfigDict,
                        iou_preds: Optional[torch.Tensor] = None) -> dict:
        """mmdet's mask-head loss contract: ``dict(loss_mask=dict(...), mask_targets=...)``;
        ``iou_preds`` (N, 1) are needed when ``loss_iou_weight > 0``."""
        logits, iou_pred = mask_preds, iou_preds
        targets = self.get_targets(sampling_results, batch_gt_instances, tuple(logits.shape[2:]))
        labels = logits.new_zeros(logits.shape[0], dtype=torch.long)  # class-agnostic: one map per RoI
        if logits.shape[0] == 0:
            losses = dict(loss_mask=logits.sum())
        else:
            losses = dict(loss_mask=self.loss_mask(logits, targets, labels))
        if self.loss_iou_weight > 0:
            if iou_pred is None:
                raise ValueError('PromptMaskHead: loss_iou_weight > 0 needs iou_preds')
            with torch.no_grad():
                pred, gt = logits[:, 0] > 0, targets > 0.5
                inter = (pred & gt).flatten(1).sum(1).float()
                union = (pred | gt).flatten(1).sum(1).float().clamp(min=1)
            losses['loss_mask_iou'] = self.loss_iou_weight * F.mse_loss(iou_pred[:, 0], inter / union) \
                if logits.shape[0] else iou_pred.sum()
        return dict(loss_mask=losses, mask_targets=targets)

    def predict_by_feat(self, mask_preds: Sequence[torch.Tensor], results_list: List[InstanceData],
                        batch_img_metas: List[dict], rcnn_test_cfg: ConfigDict,
                        rescale: bool = False, **kwargs) -> List[InstanceData]:
        """Add ``masks`` (N, H, W) bool to each image's detections: sigmoid, upsample by
        ``mask_stride``, crop the padding, resize to the original image when ``rescale`` (the boxes
        are rescaled too, as mmdet's FCN mask head does), threshold at ``mask_thr_binary``."""
        thr = rcnn_test_cfg.mask_thr_binary
        for i, (preds, results, meta) in enumerate(zip(mask_preds, results_list, batch_img_metas)):
            if len(results) == 0:
                results_list[i] = empty_instances([meta], results.bboxes.device, task_type='mask',
                                                  instance_results=[results], mask_thr_binary=thr)[0]
                continue
            img_h, img_w = meta['img_shape'][:2]
            out_h, out_w = meta['ori_shape'][:2] if rescale else (img_h, img_w)
            if rescale:
                results.bboxes /= results.bboxes.new_tensor(meta['scale_factor']).repeat(2)
            masks = []
            for chunk in preds.split(32):  # bounded memory for many detections on large images
                prob = F.interpolate(chunk.float().sigmoid(), scale_factor=self.mask_stride, mode='bilinear',
                                     align_corners=False)[:, :, :img_h, :img_w]
                if (out_h, out_w) != (img_h, img_w):
                    prob = F.interpolate(prob, size=(out_h, out_w), mode='bilinear', align_corners=False)
                masks.append(prob[:, 0] >= thr)
            results.masks = torch.cat(masks)
        return results_list
