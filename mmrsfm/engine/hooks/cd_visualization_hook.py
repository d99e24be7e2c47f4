"""Draw change-detection predictions: ``tools/test.py CONFIG CKPT --show-dir DIR`` on image pairs."""
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine.hooks import Hook

from mmrsfm.registry import HOOKS


def _to_display(img: np.ndarray, bgr: bool, rgb_bands: Optional[Sequence[int]] = None) -> np.ndarray:
    """(H, W, C) of any band count and dtype -> (H, W, 3) RGB uint8: bands ``rgb_bands`` (default the
    first three; one band as grey), each stretched between its 2nd and 98th percentile, so 16-bit / float
    rasters are visible too. ``bgr``: the bands come from OpenCV (PNG/JPEG), blue first."""
    if rgb_bands is not None:
        img = img[..., list(rgb_bands)]
    elif img.shape[2] >= 3:
        img = img[..., 2::-1] if bgr else img[..., :3]
    else:
        img = np.repeat(img[..., :1], 3, axis=2)
    img = img.astype(np.float32)
    lo, hi = np.percentile(img, 2, axis=(0, 1)), np.percentile(img, 98, axis=(0, 1))
    return ((img - lo) / np.maximum(hi - lo, 1e-6) * 255).clip(0, 255).astype(np.uint8)


@HOOKS.register_module()
class ChangeDetectionVisualizationHook(Hook):
    """Save one panel per test pair: date A | date B | ground-truth change | predicted change.

    mmseg's ``SegVisualizationHook`` reads ``img_path`` as one image, which a pair is not. Each changed
    pixel is drawn in its class colour (class 0, no change, is not drawn) over a darkened date B; any band
    count is shown through its first three bands, percentile-stretched. ``tools/test.py --show-dir DIR``
    turns the hook on and sets ``test_out_dir``.

    Args:
        draw: Draw at all. Defaults to False (``--show-dir`` sets it).
        interval: Draw every ``interval``-th test batch. Defaults to 1.
        test_out_dir: Output directory for the panels (created). Defaults to None.
        palette: RGB colour per class; class 0 (no change) is not drawn. Defaults to a fixed palette.
        rgb_bands: Band indices (of one date) shown as red, green, blue, e.g. ``(3, 2, 1)`` for
            Sentinel-2 B04/B03/B02 in OSCD's order. Defaults to None (the first three bands).
    """

    priority = 'NORMAL'

    def __init__(self, draw: bool = False, interval: int = 1, test_out_dir: Optional[str] = None,
                 palette: Optional[Sequence[Sequence[int]]] = None, rgb_bands: Optional[Sequence[int]] = None,
                 **unused) -> None:
        # show/wait_time (window display) are accepted for config compatibility but not supported.
        self.draw, self.interval, self.test_out_dir, self.rgb_bands = draw, interval, test_out_dir, rgb_bands
        self.palette = np.array(palette or [(0, 0, 0), (255, 64, 64), (64, 160, 255), (255, 200, 0),
                                            (0, 200, 120), (200, 80, 255)], dtype=np.uint8)

    def _overlay(self, base: np.ndarray, label: Optional[np.ndarray]) -> np.ndarray:
        out = (base * 0.5).astype(np.uint8)
        if label is not None:
            changed = (label > 0) & (label < len(self.palette))
            out[changed] = self.palette[label[changed]]
        return out

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.draw or self.test_out_dir is None or batch_idx % self.interval:
            return
        from mmrsfm.datasets.transforms.bitemporal import LoadBiTemporalImages
        loader = LoadBiTemporalImages(color_type='unchanged')
        out_dir = osp.join(runner.work_dir, self.test_out_dir)  # an absolute test_out_dir wins in join
        os.makedirs(out_dir, exist_ok=True)
        for sample in outputs:
            pair = loader(dict(img_path=sample.img_path))
            bands, first = pair['bands_per_date'], sample.img_path[0]
            bgr = isinstance(first, str) and first.lower().endswith(('.png', '.jpg', '.jpeg', '.bmp'))
            date_a = _to_display(pair['img'][..., :bands], bgr, self.rgb_bands)
            date_b = _to_display(pair['img'][..., bands:], bgr, self.rgb_bands)
            pred = sample.pred_sem_seg.data[0].cpu().numpy().astype(np.int64)
            gt = sample.gt_sem_seg.data[0].cpu().numpy().astype(np.int64) if 'gt_sem_seg' in sample else None
            panel = np.concatenate([date_a, date_b, self._overlay(date_b, gt), self._overlay(date_b, pred)], axis=1)
            # one file per date (LEVIR-CD: its name), or one file per band (OSCD: the scene folder's name,
            # images/<city>/imgs_1/<band file>)
            name = osp.splitext(osp.basename(first))[0] if isinstance(first, str) else \
                osp.basename(osp.dirname(osp.dirname(first[0])))
            mmcv.imwrite(panel[..., ::-1], osp.join(out_dir, f'{name}.png'))  # RGB panel -> BGR file
