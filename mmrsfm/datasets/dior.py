"""DIOR (Li et al., "Object detection in optical remote sensing images: A survey and a new benchmark",
ISPRS J. 2020), horizontal boxes: 23,463 images of 800 x 800 px, 20 categories.

The release layout, read as it is::

    DIOR/JPEGImages-trainval/NNNNN.jpg      # ids of train.txt and val.txt
    DIOR/JPEGImages-test/NNNNN.jpg          # ids of test.txt
    DIOR/Annotations/Horizontal Bounding Boxes/NNNNN.xml   # VOC style: <object><name/><bndbox/></object>
    DIOR/ImageSets/Main/{train,val,test}.txt

The release has no ``trainval.txt``: the common protocol trains on train + val (a ``ConcatDataset``) and
reports VOC mAP at IoU 0.5 on test. The categories and their xml spellings are DIOR-R's
(:mod:`mmrsfm.datasets.dior_r`), which re-annotates the same images with oriented boxes.
"""
from mmrsfm.registry import DATASETS
from .dior_r import DIOR_R_CLASSES, DIOR_R_XML_NAMES
from .horizontal_xml import CheckedXMLDataset

#: The 20 DIOR categories (label order), lower-cased as mmrotate's DIOR-R reader names them.
DIOR_CLASSES = DIOR_R_CLASSES
#: Categories whose xml ``name`` in the release is not lower case.
DIOR_XML_NAMES = DIOR_R_XML_NAMES
DIOR_HBB_ANN_DIR = 'Annotations/Horizontal Bounding Boxes'


@DATASETS.register_module()
class DIORHBBDataset(CheckedXMLDataset):
    """DIOR with its horizontal boxes, from the released layout (see the module docstring).

    Set ``ann_file`` to an ``ImageSets/Main`` list and ``img_subdir`` to ``'JPEGImages-trainval'`` (train,
    val) or ``'JPEGImages-test'`` (test). Objects named as in the release (``Expressway-Service-area``)
    or as in :data:`DIOR_CLASSES` are accepted; any other name is an error naming the xml file.
    """
    METAINFO = dict(classes=DIOR_CLASSES)
    XML_NAMES = DIOR_XML_NAMES

    def __init__(self, img_subdir: str = 'JPEGImages-trainval', ann_subdir: str = DIOR_HBB_ANN_DIR,
                 **kwargs) -> None:
        super().__init__(img_subdir=img_subdir, ann_subdir=ann_subdir, **kwargs)
