"""mmdet's VOC-style ``XMLDataset`` with the checks its parser skips: the base of the DIOR (horizontal
boxes) and SAR-AIRcraft-1.0 readers."""
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional

from mmdet.datasets import XMLDataset

from .file_checks import DatasetFormatError

BOX_TAGS = ('xmin', 'ymin', 'xmax', 'ymax')


class CheckedXMLDataset(XMLDataset):
    """``XMLDataset`` (``ann_file`` lists image ids; ``<img_subdir>/<id>.jpg`` and ``<ann_subdir>/<id>.xml``
    under ``data_root``) that fails with the file and the fix where mmdet is silent or cryptic:

    - a missing xml or image file (mmdet reads the image only when the xml has no ``size``);
    - an object whose ``name`` is not a class of the dataset (mmdet drops it silently);
    - an object without ``bndbox`` or one of ``xmin/ymin/xmax/ymax`` (mmdet raises ``AttributeError``),
      or whose box is empty (``xmax <= xmin`` or ``ymax <= ymin``).

    ``XML_NAMES`` maps a class to its spelling in the release's xml where the two differ.
    """
    XML_NAMES: Dict[str, str] = {}

    def __init__(self, *args, data_prefix: Optional[dict] = None, **kwargs) -> None:
        # mmdet joins image and xml paths to data_prefix['sub_data_root'] (else to the working directory):
        # default it to data_root, where the release layouts keep their folders
        super().__init__(*args, data_prefix=dict(dict(sub_data_root=''), **(data_prefix or {})), **kwargs)

    def load_data_list(self) -> List[dict]:
        classes = self._metainfo.get('classes')
        # spelling in the xml -> class name; the class names themselves are accepted too
        self._xml_to_class = {n: n for n in classes or ()}
        self._xml_to_class.update({v: k for k, v in self.XML_NAMES.items() if k in self._xml_to_class})
        return super().load_data_list()

    def parse_data_info(self, img_info: dict) -> dict:
        xml_path = img_info['xml_path']
        if not osp.isfile(xml_path):
            raise FileNotFoundError(
                f"annotation file '{xml_path}' (image id {img_info['img_id']!r} of '{self.ann_file}') does not "
                f"exist. Fix: check data_root and ann_subdir={self.ann_subdir!r}, or remove the id from the list.")
        img_path = osp.join(self.sub_data_root, img_info['file_name'])
        if not osp.isfile(img_path):
            raise FileNotFoundError(
                f"image '{img_path}' (id {img_info['img_id']!r} of '{self.ann_file}') does not exist. Fix: check "
                f"data_root and img_subdir={self.img_subdir!r} (the split's image folder).")
        self._current_xml = xml_path
        try:
            return super().parse_data_info(img_info)
        except ET.ParseError as e:
            raise DatasetFormatError(f"'{xml_path}' is not well-formed xml ({e}). Fix: restore the file from the "
                                     'release (a truncated download or an edit broke it).') from e

    def _parse_instance_info(self, raw_ann_info: ET.ElementTree, minus_one: bool = True) -> List[dict]:
        xml_path = getattr(self, '_current_xml', '<xml>')
        for i, obj in enumerate(raw_ann_info.findall('object')):
            name_el = obj.find('name')
            name = None if name_el is None or name_el.text is None else name_el.text.strip()
            if name not in self._xml_to_class:
                raise DatasetFormatError(
                    f"'{xml_path}': object {i} has name {name!r}, which is not a class of "
                    f'{type(self).__name__} {tuple(self._xml_to_class)}. Fix: correct the name in the xml, or set '
                    'metainfo.classes to the classes of your data (objects are never dropped silently).')
            if name_el.text != self._xml_to_class[name]:
                name_el.text = self._xml_to_class[name]  # release spelling -> class name, for mmdet's parser
            box = obj.find('bndbox')
            missing = ['bndbox'] if box is None else [t for t in BOX_TAGS if box.find(t) is None]
            if missing:
                raise DatasetFormatError(
                    f"'{xml_path}': object {i} ({name}) has no {'/'.join(missing)} tag. Fix: a horizontal box is "
                    '<bndbox><xmin/><ymin/><xmax/><ymax/></bndbox> (VOC style); for DIOR use the files of '
                    "'Annotations/Horizontal Bounding Boxes', not the oriented ones.")
            x1, y1, x2, y2 = (float(box.find(t).text) for t in BOX_TAGS)
            if x2 <= x1 or y2 <= y1:
                raise DatasetFormatError(
                    f"'{xml_path}': object {i} ({name}) has an empty box xmin={x1:g} ymin={y1:g} xmax={x2:g} "
                    f'ymax={y2:g}. Fix: xmax > xmin and ymax > ymin (pixel corners of the box).')
        return super()._parse_instance_info(raw_ann_info, minus_one=minus_one)

