"""mmdet's ``CocoDataset`` with the annotation file validated first and the filtering logged."""
import json
import os.path as osp
from typing import List

from mmdet.datasets import CocoDataset
from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from mmrsfm.registry import DATASETS
from .file_checks import check_coco


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """COCO-format instance dataset (SSDD, WHU building, NWPU VHR-10 converted by mmrsfm) that fails
    loudly where mmdet's ``CocoDataset`` is silent or cryptic.

    - Before parsing, :func:`mmrsfm.datasets.file_checks.check_coco` rejects a missing image file, a
      category absent from ``metainfo.classes`` (mmdet drops its annotations), a class with no
      category (mmdet shifts the labels), a missing ``bbox``/``area`` field, and an image whose size
      differs from the json's.
    - After ``filter_cfg`` (``filter_empty_gt``, ``min_size``) the numbers of images kept and skipped
      are logged, and an empty result is an error.

    Args:
        check_images: Also read every image header (size check). Defaults to True.
        **kwargs: Those of mmdet's ``CocoDataset``.
    """

    def __init__(self, *args, check_images: bool = True, **kwargs) -> None:
        self.check_images = check_images
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        with get_local_path(self.ann_file, backend_args=self.backend_args) as local_path:
            with open(local_path) as f:
                data = json.load(f)
        self.ann_stats = check_coco(data, self.ann_file, self.data_prefix.get('img'), self.metainfo['classes'],
                                    self.check_images)
        return super().load_data_list()

    def filter_data(self) -> List[dict]:
        kept = super().filter_data()
        cfg = self.filter_cfg or {}
        skipped = len(self.data_list) - len(kept)
        name = osp.basename(self.ann_file)
        if self.test_mode or not cfg:
            print_log(f"{type(self).__name__} {name}: all {len(kept)} images used "
                      f"({self.ann_stats['images_without_annotations']} without annotations; no filter_cfg"
                      f"{' in test mode' if self.test_mode else ''})", logger='current')
        else:
            print_log(f'{type(self).__name__} {name}: kept {len(kept)} of {len(self.data_list)} images, skipped '
                      f'{skipped} by filter_cfg={dict(cfg)} ({self.ann_stats["images_without_annotations"]} have '
                      f'no annotations; set filter_cfg.filter_empty_gt=False to train on them as background)',
                      logger='current')
        if not kept:
            raise ValueError(f"{type(self).__name__} '{self.ann_file}': no image left after filter_cfg={dict(cfg)}")
        return kept
