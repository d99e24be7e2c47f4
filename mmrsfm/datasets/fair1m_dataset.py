"""``mmrsfm.FAIR1MDataset``: FAIR1M-2.0 patches in the DOTA layout (see :mod:`mmrsfm.datasets.fair1m`)."""
from mmrotate.datasets import DOTADataset

from mmrsfm.registry import DATASETS
from .fair1m import FAIR1M_DOTA_CLASSES


@DATASETS.register_module()
class FAIR1MDataset(DOTADataset):
    """mmrotate's ``DOTADataset`` with the 37 FAIR1M categories, spelled as the converted ``labelTxt``
    writes them (:data:`~mmrsfm.datasets.fair1m.FAIR1M_DOTA_CLASSES`: spaces replaced by ``_``).

    Reads the patches of ``tools/dataset_converters/dota_split.py --classes fair1m-2.0``
    (``images/*.png`` + ``annfiles/*.txt``), or, with ``ann_file=''``, every patch of an unlabelled split.
    """
    METAINFO = dict(classes=FAIR1M_DOTA_CLASSES)
