"""SAR-AIRcraft-1.0 (Wang et al., "SAR-AIRcraft-1.0: High-resolution SAR aircraft detection and
recognition dataset", Journal of Radars 2023): Gaofen-3 spotlight SAR (1 m) of airports, 4,368
single-polarisation images of 800 to 1500 px, 7 aircraft types, horizontal boxes.

The release is a VOC-style folder, read as it is::

    SAR-AIRcraft-1.0/JPEGImages/NNNNNNN.jpg    # every split; grey SAR amplitude
    SAR-AIRcraft-1.0/Annotations/NNNNNNN.xml   # <size/>, <object><name/><bndbox><xmin/>...</bndbox></object>
    SAR-AIRcraft-1.0/ImageSets/Main/{train,val,test}.txt

Metric: VOC mAP at IoU 0.5 on test.
"""
from mmrsfm.registry import DATASETS
from .horizontal_xml import CheckedXMLDataset

#: The 7 categories (label order), spelled as the xml ``name`` of the release.
SAR_AIRCRAFT_CLASSES = ('A220', 'A320/321', 'A330', 'ARJ21', 'Boeing737', 'Boeing787', 'other')


@DATASETS.register_module()
class SARAircraftDataset(CheckedXMLDataset):
    """SAR-AIRcraft-1.0 from the released layout (see the module docstring): ``ann_file`` is an
    ``ImageSets/Main`` list; images in ``JPEGImages/``, annotations in ``Annotations/``. An object of any
    other name than :data:`SAR_AIRCRAFT_CLASSES` is an error naming the xml file.

    The JPEGs hold one band (stored grey); load them with ``LoadImageFromFile(color_type='grayscale')``
    for a 1-band model (``in_channels=1``), or as colour for an RGB-pretrained one.
    """
    METAINFO = dict(classes=SAR_AIRCRAFT_CLASSES)
