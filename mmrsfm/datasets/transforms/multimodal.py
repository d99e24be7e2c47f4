"""Transforms for samples holding one image per modality (``results['img'] = {modality: HxWxC}``)."""
from typing import Dict, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmrsfm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadMultiModalImages(BaseTransform):
    """Read ``results['img_path'][m]`` for each modality; SAR-like modalities read as one band.

    Args:
        color_types: mmcv ``color_type`` per modality; unnamed ones use ``'color'`` (3 bands, BGR).
            Defaults to ``dict(sar='grayscale')``.
    """

    def __init__(self, color_types: Optional[Dict[str, str]] = None) -> None:
        self.color_types = dict(sar='grayscale') if color_types is None else dict(color_types)

    def transform(self, results: dict) -> dict:
        imgs = {}
        for modality, path in results['img_path'].items():
            img = mmcv.imread(path, flag=self.color_types.get(modality, 'color'))
            if img is None:
                raise ValueError(f"could not read image '{path}' (corrupted or unsupported format)")
            imgs[modality] = img[..., None] if img.ndim == 2 else img
        shapes = {m: im.shape[:2] for m, im in imgs.items()}
        if len(set(shapes.values())) > 1:
            raise ValueError(f"paired images of '{results.get('img_id')}' differ in size: {shapes}; "
                             f'co-register/resize them to one grid first')
        results['img'] = imgs
        results['img_shape'] = next(iter(shapes.values()))
        return results


@TRANSFORMS.register_module()
class PairedRandomCropFlip(BaseTransform):
    """Resize every modality to ``scale`` (short side), take one random ``crop_size`` crop and one
    random horizontal/vertical flip, applied identically to all modalities (keeps pairs aligned)."""

    def __init__(self, crop_size: Tuple[int, int] = (224, 224), scale: Optional[int] = None,
                 flip_prob: float = 0.5) -> None:
        self.crop_size, self.scale, self.flip_prob = tuple(crop_size), scale, flip_prob

    def transform(self, results: dict) -> dict:
        imgs = results['img']
        if self.scale is not None:
            imgs = {m: self._reshape(mmcv.imrescale(im, (self.scale, 10**6)), im) for m, im in imgs.items()}
        h, w = next(iter(imgs.values())).shape[:2]
        ch, cw = self.crop_size
        if h < ch or w < cw:
            imgs = {m: self._reshape(mmcv.imresize(im, (max(w, cw), max(h, ch))), im) for m, im in imgs.items()}
            h, w = max(h, ch), max(w, cw)
        y0, x0 = np.random.randint(0, h - ch + 1), np.random.randint(0, w - cw + 1)
        flips = np.random.rand(2) < self.flip_prob
        out = {}
        for m, im in imgs.items():
            im = im[y0:y0 + ch, x0:x0 + cw]
            im = im[:, ::-1] if flips[0] else im
            out[m] = np.ascontiguousarray(im[::-1] if flips[1] else im)
        results['img'], results['img_shape'] = out, (ch, cw)
        return results

    @staticmethod
    def _reshape(new: np.ndarray, old: np.ndarray) -> np.ndarray:
        return new[..., None] if new.ndim == 2 and old.ndim == 3 else new


@TRANSFORMS.register_module()
class PackMultiModalInputs(BaseTransform):
    """``results['img']`` -> ``inputs = {modality: (C, H, W) tensor}``, ``data_samples = meta``."""

    def __init__(self, meta_keys: Sequence[str] = ('img_id', 'img_path', 'img_shape')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        inputs = {m: torch.from_numpy(np.ascontiguousarray(im.transpose(2, 0, 1))) for m, im in results['img'].items()}
        return dict(inputs=inputs, data_samples={k: results[k] for k in self.meta_keys if k in results})
