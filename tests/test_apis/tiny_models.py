"""Test-only models for whole-scene inference (imported by configs through ``custom_imports``).

* ``TinyLocalNet``: stride-1 3x3 convolutions, a receptive field of ``2 * num_layers + 1`` px, so
  tiled inference with enough overlap must reproduce whole-image inference exactly.
* ``BrightBlobDetector`` / ``BrightBlobInstanceSegmentor``: deterministic "detectors" that return
  every bright connected component (the oriented minimum-area box in continuous pixel coordinates,
  or its mask), labelled by its dominant colour channel (0 red, 1 green, 2 blue) and scored by its
  area, so a cut copy of an object scores lower than the whole one. They test tiling, coordinates and
  de-duplication without training a detector.
"""
import cv2
import numpy as np
import torch
from mmdet.models.detectors.base import BaseDetector
from mmdet.registry import MODELS as DET_MODELS
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from mmseg.registry import MODELS as SEG_MODELS
from torch import nn


@SEG_MODELS.register_module(force=True)
class TinyLocalNet(BaseModule):

    def __init__(self, in_channels: int = 3, channels: int = 8, num_layers: int = 2, init_cfg=None) -> None:
        super().__init__(init_cfg)
        layers, c = [], in_channels
        for _ in range(num_layers):
            layers += [nn.Conv2d(c, channels, 3, padding=1), nn.ReLU()]
            c = channels
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return (self.body(x), )


def _components(img: np.ndarray, threshold: float):
    """(mask, label, score) of each bright connected component of a (C, H, W) image."""
    bright = img.max(axis=0) > threshold
    count, comp = cv2.connectedComponents(bright.astype(np.uint8), connectivity=4)
    for k in range(1, count):
        mask = comp == k
        label = int(np.argmax([img[c][mask].mean() for c in range(min(3, img.shape[0]))]))
        area = float(mask.sum())
        yield mask, label, area / (area + 200.0)


@DET_MODELS.register_module(force=True)
class BrightBlobDetector(BaseDetector):

    def __init__(self, threshold: float = 150.0, with_masks: bool = False, data_preprocessor=None,
                 init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.threshold, self.with_masks = threshold, with_masks
        self.mask_head = nn.Identity() if with_masks else None  # mmdet's with_mask: an instance segmentor
        self.dummy = nn.Parameter(torch.zeros(1))  # a checkpoint needs a state dict

    def predict(self, batch_inputs, batch_data_samples, rescale: bool = True):
        for img, sample in zip(batch_inputs.cpu().numpy(), batch_data_samples):
            h, w = sample.img_shape
            boxes, scores, labels, masks = [], [], [], []
            for mask, label, score in _components(img[:, :h, :w], self.threshold):
                ys, xs = np.nonzero(mask)
                # pixel (x, y) covers [x, x + 1) x [y, y + 1): rectangle around the pixels' corners
                pts = np.concatenate([np.stack([xs + dx, ys + dy], 1) for dx in (0, 1) for dy in (0, 1)])
                (cx, cy), (bw, bh), angle = cv2.minAreaRect(pts.astype(np.float32))
                boxes.append([cx, cy, bw, bh, np.deg2rad(angle)])
                scores.append(score)
                labels.append(label)
                masks.append(mask)
            pred = InstanceData()
            pred.bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 5)
            pred.scores = torch.tensor(scores, dtype=torch.float32)
            pred.labels = torch.tensor(labels, dtype=torch.int64)
            if self.with_masks:
                pred.masks = torch.from_numpy(np.stack(masks) if masks else np.zeros((0, h, w), bool))
            sample.pred_instances = pred
        return batch_data_samples

    def loss(self, batch_inputs, batch_data_samples):
        raise NotImplementedError

    def _forward(self, batch_inputs, batch_data_samples=None):
        raise NotImplementedError

    def extract_feat(self, batch_inputs):
        return batch_inputs
