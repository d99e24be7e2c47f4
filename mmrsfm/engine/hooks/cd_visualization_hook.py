"""Draw change-detection predictions: ``tools/test.py CONFIG CKPT --show-dir DIR`` on image pairs."""
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
from mmengine.hooks import Hook

from mmrsfm.registry import HOOKS
from mmrsfm.visualization.change_panel import CHANGE_PALETTE, change_panel, describe_pair


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
        palette: RGB colour per class; class 0 (no change) is not drawn. Defaults to ``CHANGE_PALETTE``.
        rgb_bands: Band indices (of one date) shown as red, green, blue, e.g. ``(3, 2, 1)`` for
            Sentinel-2 B04/B03/B02 in OSCD's order. Defaults to None (the first three bands).
    """

    priority = 'NORMAL'

    def __init__(self, draw: bool = False, interval: int = 1, test_out_dir: Optional[str] = None,
                 palette: Optional[Sequence[Sequence[int]]] = None, rgb_bands: Optional[Sequence[int]] = None,
                 **unused) -> None:
        # show/wait_time (window display) are accepted for config compatibility but not supported.
        self.draw, self.interval, self.test_out_dir, self.rgb_bands = draw, interval, test_out_dir, rgb_bands
        self.palette = palette or CHANGE_PALETTE

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.draw or self.test_out_dir is None or batch_idx % self.interval:
            return
        from mmrsfm.datasets.transforms.bitemporal import LoadBiTemporalImages
        loader = LoadBiTemporalImages(color_type='unchanged')
        out_dir = osp.join(runner.work_dir, self.test_out_dir)  # an absolute test_out_dir wins in join
        os.makedirs(out_dir, exist_ok=True)
        for sample in outputs:
            pair = loader(dict(img_path=sample.img_path))
            bands = pair['bands_per_date']
            name, bgr = describe_pair(sample.img_path)
            pred = sample.pred_sem_seg.data[0].cpu().numpy()
            gt = sample.gt_sem_seg.data[0].cpu().numpy() if 'gt_sem_seg' in sample else None
            panel = change_panel(pair['img'][..., :bands], pair['img'][..., bands:], [gt, pred], bgr,
                                 self.rgb_bands, self.palette)
            mmcv.imwrite(panel[..., ::-1], osp.join(out_dir, f'{name}.png'))  # RGB panel -> BGR file
