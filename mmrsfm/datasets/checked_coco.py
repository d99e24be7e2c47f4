"""mmdet's ``CocoDataset`` with the annotation file validated first and the filtering logged."""
import json
import os.path as osp
from typing import List

from mmdet.datasets import CocoDataset
from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from mmrsfm.registry import DATASETS
from .file_checks import annotation_problems, check_coco


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """COCO-format instance dataset (SSDD, WHU building, NWPU VHR-10 converted by mmrsfm) that fails
    loudly where mmdet's ``CocoDataset`` is silent or cryptic.

    - Before parsing, :func:`mmrsfm.datasets.file_checks.check_coco` rejects a missing image file, a
      category absent from ``metainfo.classes`` (mmdet drops its annotations), a class with no
      category (mmdet shifts the labels), a missing ``bbox``/``area`` field, and an image whose size
      differs from the json's.
    - Instances mmdet drops without a message (a polygon with an odd number of coordinates, fewer
      than 3 points, zero area or entirely outside the image; a box with ``w < 1``, ``h < 1``,
      ``area <= 0`` or outside the image; an RLE of another size) are counted and logged with the
      file and annotation ids (``invalid_instances='error'`` raises instead); invalid polygons are
      removed from their instance, an instance without a valid polygon is dropped, and a file whose
      every annotation is invalid is an error.
    - After ``filter_cfg`` (``filter_empty_gt``, ``min_size``) the numbers of images kept and skipped
      are logged, and an empty result is an error. With ``filter_empty_gt`` an image whose every
      annotation was dropped as invalid is skipped too (mmdet would train on it as an empty image).

    Args:
        check_images: Also read every image header (size check). Defaults to True.
        invalid_instances: ``'log'`` (count, log and drop) or ``'error'``. Defaults to ``'log'``.
        **kwargs: Those of mmdet's ``CocoDataset``.
    """

    def __init__(self, *args, check_images: bool = True, invalid_instances: str = 'log', **kwargs) -> None:
        self.check_images, self.invalid_instances = check_images, invalid_instances
        self._emptied = set()
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        with get_local_path(self.ann_file, backend_args=self.backend_args) as local_path:
            with open(local_path) as f:
                data = json.load(f)
        self.ann_stats = check_coco(data, self.ann_file, self.data_prefix.get('img'), self.metainfo['classes'],
                                    self.check_images, self.invalid_instances)
        return super().load_data_list()

    def parse_data_info(self, raw_data_info: dict):
        """mmdet's, on the annotations with invalid polygons removed and invalid instances left out."""
        img = raw_data_info['raw_img_info']
        anns = []
        for ann in raw_data_info['raw_ann_info']:
            segmentation, problems, drop = annotation_problems(ann, img)
            if drop:
                continue
            anns.append(dict(ann, segmentation=segmentation) if problems else ann)
        if raw_data_info['raw_ann_info'] and not anns:
            self._emptied.add(img['img_id'])
        return super().parse_data_info(dict(raw_data_info, raw_ann_info=anns))

    def filter_data(self) -> List[dict]:
        kept = super().filter_data()
        cfg = self.filter_cfg or {}
        emptied = 0
        if not self.test_mode and cfg.get('filter_empty_gt', False) and self._emptied:
            before = len(kept)
            kept = [d for d in kept if d['img_id'] not in self._emptied]
            emptied = before - len(kept)
        skipped = len(self.data_list) - len(kept)
        name = osp.basename(self.ann_file)
        if self.test_mode or not cfg:
            print_log(f"{type(self).__name__} {name}: all {len(kept)} images used "
                      f"({self.ann_stats['images_without_annotations']} without annotations; no filter_cfg"
                      f"{' in test mode' if self.test_mode else ''})", logger='current')
        else:
            print_log(f'{type(self).__name__} {name}: kept {len(kept)} of {len(self.data_list)} images, skipped '
                      f'{skipped} by filter_cfg={dict(cfg)} ({self.ann_stats["images_without_annotations"]} have '
                      f'no annotations; set filter_cfg.filter_empty_gt=False to train on them as background)'
                      + (f', {emptied} of them because every annotation was invalid' if emptied else ''),
                      logger='current')
        if not kept:
            raise ValueError(f"{type(self).__name__} '{self.ann_file}': no image left after filter_cfg={dict(cfg)}")
        return kept
