"""Write tiny datasets in the exact on-disk layouts of remote-sensing benchmarks.

The content is learnable (each class has its own colour and aspect ratio), so a short training run
moves the metric; tests, the quickstart demo and users wanting a smoke test all use these writers.

Command line::

    python -m mmrsfm.datasets.synthetic dota data/dota_demo --num-train 400 --num-val 50 --size 128
    python -m mmrsfm.datasets.synthetic --help    # every format

The writers take dataset facts (class names, label values, layouts) from the dataset modules, e.g.
``mmrsfm.datasets.dota_split.DOTA_V2_CLASSES``, never the other way round: only tests and the
quickstart demo import from this package.
"""
from importlib.util import find_spec

from ._common import WRITERS, rotated_rect_corners, writer
from .air_polsar_seg import make_air_polsar_seg
from .change_detection import make_levircd, make_oscd
from .fair1m import make_fair1m
from .horizontal_det import make_dior_hbb, make_sar_aircraft
from .instance import make_coco_instances, make_nwpu_vhr10, make_ssdd, make_whu_building
from .isaid import make_isaid
from .multispectral import make_s2_folder, make_segmunich, write_geotiff
from .pretrain import make_optical_sar_pairs
from .rotated_det import DOTA_HEADER, make_dior_r, make_dota, make_dota_raw
from .semseg import make_loveda, make_loveda_official, make_potsdam
from .whu_opt_sar import make_whu_opt_sar

__all__ = ['WRITERS', 'writer', 'rotated_rect_corners', 'write_geotiff', 'make_dota', 'DOTA_HEADER',
           'make_dota_raw', 'make_dior_r', 'make_loveda', 'make_loveda_official', 'make_potsdam', 'make_coco_instances',
           'make_nwpu_vhr10', 'make_ssdd', 'make_whu_building', 'make_optical_sar_pairs', 'make_levircd',
           'make_oscd', 'make_segmunich', 'make_s2_folder', 'make_dior_hbb', 'make_sar_aircraft', 'make_whu_opt_sar',
           'make_air_polsar_seg', 'make_fair1m', 'make_isaid']
if find_spec('mmpretrain') is not None:  # their class lists live in the (mmpretrain-based) dataset modules
    from .bigearthnet import make_bigearthnet
    from .classification import make_aid, make_eurosat_ms, make_eurosat_rgb, make_nwpu_resisc45, make_ucmerced
    __all__ += ['make_bigearthnet', 'make_aid', 'make_nwpu_resisc45', 'make_ucmerced', 'make_eurosat_rgb',
                'make_eurosat_ms']
