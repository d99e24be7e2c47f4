"""Write tiny datasets in the exact on-disk layouts of remote-sensing benchmarks.

The content is learnable (each class has its own colour and aspect ratio), so a short training run
moves the metric; tests, the quickstart demo and users wanting a smoke test all use these writers.

Command line::

    python -m mmrsfm.datasets.synthetic dota data/dota_demo --num-train 400 --num-val 50 --size 128
    python -m mmrsfm.datasets.synthetic --help    # every format
"""
from ._common import WRITERS, rotated_rect_corners, writer
from .instance import NWPU_VHR10_CLASSES, make_coco_instances
from .pretrain import make_optical_sar_pairs
from .rotated_det import DOTA_V2_CLASSES, make_dota
from .semseg import LOVEDA_CLASSES, make_loveda

__all__ = ['WRITERS', 'writer', 'rotated_rect_corners', 'DOTA_V2_CLASSES', 'make_dota', 'LOVEDA_CLASSES',
           'make_loveda', 'NWPU_VHR10_CLASSES', 'make_coco_instances', 'make_optical_sar_pairs']
