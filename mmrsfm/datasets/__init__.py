"""Datasets in the real on-disk formats of remote-sensing benchmarks, and generators for them."""
from importlib.util import find_spec

from .fair1m import FAIR1M_CLASSES, FAIR1M_DOTA_CLASSES, convert_fair1m, parse_fair1m_xml
from .image_folder import MultiModalImageFolder
from .sentinel2 import S2_BANDS, S2_GSD

__all__ = ['MultiModalImageFolder', 'S2_BANDS', 'S2_GSD', 'FAIR1M_CLASSES', 'FAIR1M_DOTA_CLASSES', 'convert_fair1m',
           'parse_fair1m_xml']
# Scene classification datasets subclass mmpretrain's BaseDataset (its single- and multi-label formats).
if find_spec('mmpretrain') is not None:
    from .bigearthnet import (BIGEARTHNET_19_CLASSES, BIGEARTHNET_43_CLASSES, BIGEARTHNET_BANDS, BIGEARTHNET_MEAN,
                              BIGEARTHNET_STD, BigEarthNetDataset, LoadBigEarthNetPatch)
    from .scene_classification import (AID_CLASSES, EUROSAT_CLASSES, EUROSAT_MS_BANDS, EUROSAT_MS_MEAN,
                                       EUROSAT_MS_STD, NWPU_RESISC45_CLASSES, UCMERCED_CLASSES, AIDDataset,
                                       EuroSATDataset, NWPUResisc45Dataset, SceneFolderDataset, UCMercedDataset,
                                       stratified_split)
    __all__ += ['BigEarthNetDataset', 'LoadBigEarthNetPatch', 'BIGEARTHNET_BANDS', 'BIGEARTHNET_19_CLASSES',
                'BIGEARTHNET_43_CLASSES', 'BIGEARTHNET_MEAN', 'BIGEARTHNET_STD', 'SceneFolderDataset', 'AIDDataset',
                'NWPUResisc45Dataset', 'UCMercedDataset', 'EuroSATDataset', 'AID_CLASSES', 'NWPU_RESISC45_CLASSES',
                'UCMERCED_CLASSES', 'EUROSAT_CLASSES', 'EUROSAT_MS_BANDS', 'EUROSAT_MS_MEAN', 'EUROSAT_MS_STD',
                'stratified_split']

# Datasets that subclass mmseg's / mmdet's own register when that toolbox is installed (both are
# optional dependencies): change detection and LoveDA build on mmseg, the checked COCO dataset on mmdet.
if find_spec('mmseg') is not None:
    from .change_detection import BiTemporalDataset, LEVIRCDDataset, OSCDDataset
    from .loveda_official import LoveDAOfficialDataset
    __all__ += ['BiTemporalDataset', 'LEVIRCDDataset', 'OSCDDataset', 'LoveDAOfficialDataset']
    from .segmunich import SEGMUNICH_BANDS, SEGMUNICH_CLASSES, SegMunichDataset
    __all__ += ['SegMunichDataset', 'SEGMUNICH_BANDS', 'SEGMUNICH_CLASSES']
    from .whu_opt_sar import WHU_OPT_SAR_CLASSES, WHU_OPT_SAR_LABEL_VALUES, WHUOptSARDataset, convert_whu_opt_sar
    __all__ += ['WHUOptSARDataset', 'WHU_OPT_SAR_CLASSES', 'WHU_OPT_SAR_LABEL_VALUES', 'convert_whu_opt_sar']
    from .air_polsar_seg import AIR_POLSAR_SEG_BANDS, AIR_POLSAR_SEG_CLASSES, AIRPolSARSegDataset, colour_code
    __all__ += ['AIRPolSARSegDataset', 'AIR_POLSAR_SEG_CLASSES', 'AIR_POLSAR_SEG_BANDS', 'colour_code']
if find_spec('mmdet') is not None:
    from .checked_coco import CheckedCocoDataset
    __all__ += ['CheckedCocoDataset']
if find_spec('mmdet') is not None:  # horizontal-box VOC-style readers (DIOR, SAR-AIRcraft-1.0)
    from .dior import DIOR_CLASSES, DIORHBBDataset
    from .sar_aircraft import SAR_AIRCRAFT_CLASSES, SARAircraftDataset
    __all__ += ['DIORHBBDataset', 'DIOR_CLASSES', 'SARAircraftDataset', 'SAR_AIRCRAFT_CLASSES']
if find_spec('mmrotate') is not None:  # DOTA-layout readers subclass mmrotate's DOTADataset
    from .fair1m_dataset import FAIR1MDataset
    __all__ += ['FAIR1MDataset']
