"""FAIR1M-2.0 (Sun et al., "FAIR1M: A benchmark dataset for fine-grained object recognition in
high-resolution remote sensing imagery", ISPRS J. 2022): 37 fine-grained categories in 5 groups, oriented
boxes, Gaofen / Google Earth images of 1,000 to 10,000 px.

The release layout (checked against torchgeo's loader, ``microsoft/torchgeo``
``torchgeo/datasets/fair1m.py``, commit ``0a5ca81``, which reads the archives of the release)::

    FAIR1M2_0/train/part1/images/*.tif      FAIR1M2_0/train/part1/labelXml/*.xml
    FAIR1M2_0/train/part2/images/*.tif      FAIR1M2_0/train/part2/labelXml/*.xml
    FAIR1M2_0/validation/images/*.tif       FAIR1M2_0/validation/labelXml/*.xml
    FAIR1M2_0/test/images/*.tif             (no labels: scored by the ISPRS benchmark server)

One xml per image, same stem::

    <annotation><source><filename>1.tif</filename>...</source>
      <size><width>..</width><height>..</height><depth>3</depth></size>
      <objects><object><coordinate>pixel</coordinate><type>rectangle</type><description>None</description>
          <possibleresult><name>Dry Cargo Ship</name><probability>1</probability></possibleresult>
          <points><point>x,y</point> x 5 (the 4 corners, then the first again)</points>
      </object>...</objects></annotation>

torchgeo's ``parse_pascal_voc`` reads exactly ``source/filename``, ``objects/object``,
``points/point`` (``"x,y"``) and ``possibleresult/name``, and its class table has the 37 names below.
The closing fifth point is not in torchgeo's code (it keeps every point); other public readers drop the
last point (``findall('point')[:4]``). Here any repeated point is dropped, so both forms read alike.

mmrsfm does not read the xml during training: :func:`convert_fair1m` writes DOTA ``labelTxt`` files once,
and the DOTA tools do the rest (``tools/dataset_converters/dota_split.py --classes fair1m-2.0`` cuts
patches, ``mmrsfm.DOTAMergeMetric`` merges and scores full images). Category names with spaces become
one token by replacing each space with ``_`` (``Dry Cargo Ship`` -> ``Dry_Cargo_Ship``), since DOTA lines
are space-separated; no official name contains ``_``, so :data:`FAIR1M_FROM_DOTA` undoes it exactly and
:func:`write_fair1m_results` writes results back with the official names.

Scoring: the benchmark ranks by mAP at IoU 0.5 (the paper), computed by the ISPRS benchmark server, whose
scorer is not public; no FAIR1M scorer was found to check against. mmrsfm scores the validation split with
the DOTA devkit's protocol (polygon IoU > 0.5, VOC07 11-point AP; ``eval_mode='area'`` for all-point AP).
"""
import difflib
import logging
import os
import os.path as osp
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from .dota_split import format_dota_line
from .file_checks import IMG_EXTENSIONS, DatasetFormatError

#: The 37 FAIR1M(-2.0) categories as spelled in ``possibleresult/name``, in torchgeo's order (ships,
#: vehicles, airplanes, courts, roads); this order is the label index.
FAIR1M_CLASSES = ('Passenger Ship', 'Motorboat', 'Fishing Boat', 'Tugboat', 'other-ship', 'Engineering Ship',
                  'Liquid Cargo Ship', 'Dry Cargo Ship', 'Warship', 'Small Car', 'Bus', 'Cargo Truck',
                  'Dump Truck', 'other-vehicle', 'Van', 'Trailer', 'Tractor', 'Excavator', 'Truck Tractor',
                  'Boeing737', 'Boeing747', 'Boeing777', 'Boeing787', 'ARJ21', 'C919', 'A220', 'A321', 'A330',
                  'A350', 'other-airplane', 'Baseball Field', 'Basketball Court', 'Football Field',
                  'Tennis Court', 'Roundabout', 'Intersection', 'Bridge')
#: Official name -> DOTA-format token (spaces -> ``_``), and back.
FAIR1M_TO_DOTA: Dict[str, str] = {name: name.replace(' ', '_') for name in FAIR1M_CLASSES}
FAIR1M_FROM_DOTA: Dict[str, str] = {token: name for name, token in FAIR1M_TO_DOTA.items()}
#: The categories as written in the converted ``labelTxt`` (the dataset's ``classes``).
FAIR1M_DOTA_CLASSES = tuple(FAIR1M_TO_DOTA.values())


@dataclass
class FAIR1MLabels:
    """The objects of one FAIR1M xml.

    Attributes:
        filename: ``source/filename`` (None when absent).
        polys: ``(N, 8)`` corners ``x1 y1 ... x4 y4`` in pixels, in the file's order.
        names: ``N`` official category names.
        reduced: Indices of objects given with more than 4 distinct points, replaced by their
            minimum-area rectangle.
    """
    filename: Optional[str]
    polys: np.ndarray
    names: List[str]
    reduced: List[int] = field(default_factory=list)


def _object_error(path: str, k: int, problem: str) -> DatasetFormatError:
    return DatasetFormatError(f'{path} (object {k + 1}): {problem}. Fix: correct or delete this <object>; each needs '
                              '<possibleresult><name>CATEGORY</name></possibleresult> and <points> with the 4 '
                              'corners as <point>x,y</point> (the release repeats the first as a fifth).')


def parse_fair1m_xml(path: str, classes: Sequence[str] = FAIR1M_CLASSES) -> FAIR1MLabels:
    """Read one ``labelXml`` file (layout in the module notes).

    Args:
        path: The ``.xml`` file.
        classes: Accepted category names (official spelling).

    Raises:
        DatasetFormatError: Malformed xml, no ``<objects>``, an object without ``<points>`` or
            ``<possibleresult><name>``, a point that is not ``x,y``, fewer than 4 distinct points, or an
            unknown category (the message lists the nearest known names); always naming the file and
            the object.
    """
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise DatasetFormatError(f'{path} is not well-formed xml ({e}). Fix: restore it from the release.') from e
    objects = root.find('objects')
    if objects is None:
        raise DatasetFormatError(f'{path} has no <objects> element: is it a FAIR1M labelXml file? Fix: restore it '
                                 'from the release (an image without objects has an empty <objects/>).')
    known = set(classes)
    polys, names, reduced = [], [], []
    for k, obj in enumerate(objects.findall('object')):
        name_el = obj.find('possibleresult/name')
        if name_el is None or not (name_el.text or '').strip():
            raise _object_error(path, k, 'no <possibleresult><name>')
        name = name_el.text.strip()
        if name not in known:
            near = difflib.get_close_matches(name, classes, n=3, cutoff=0.5)
            raise DatasetFormatError(f'{path} (object {k + 1}): unknown category {name!r}'
                                     + (f'; nearest known: {", ".join(near)}' if near else '')
                                     + f'. Fix: use one of the {len(classes)} FAIR1M names (mmrsfm.datasets.fair1m.'
                                     'FAIR1M_CLASSES), spelled as in the release.')
        points_el = obj.find('points')
        if points_el is None:
            raise _object_error(path, k, 'no <points>')
        pts = []
        for point in points_el.findall('point'):
            try:
                x, y = (float(v) for v in (point.text or '').split(','))
            except ValueError:
                raise _object_error(path, k, f'point {point.text!r} is not "x,y"') from None
            if not (np.isfinite(x) and np.isfinite(y)):
                raise _object_error(path, k, f'point {point.text!r} is not finite')
            pts.append((x, y))
        distinct = list(dict.fromkeys(pts))  # the closing repeat of the first corner (and any duplicate) goes
        if len(distinct) < 4:
            raise _object_error(path, k, f'{len(distinct)} distinct points, a box needs 4')
        quad = np.array(distinct, np.float64)
        if len(quad) > 4:  # not a rectangle as annotated: keep the object as its enclosing rotated rectangle
            import cv2
            quad = cv2.boxPoints(cv2.minAreaRect(quad.astype(np.float32))).astype(np.float64)
            reduced.append(k)
        polys.append(quad.reshape(-1))
        names.append(name)
    filename = root.findtext('source/filename')
    return FAIR1MLabels(filename.strip() if filename else None, np.array(polys, np.float64).reshape(-1, 8), names,
                        reduced)


def _find_image(img_dir: str, stem: str) -> Optional[str]:
    for ext in ('.tif', ) + IMG_EXTENSIONS:
        path = osp.join(img_dir, stem + ext)
        if osp.isfile(path):
            return path
    return None


def convert_fair1m(xml_dir: str, img_dir: str, out_dir: str, allow_missing_labels: bool = False) -> Dict[str, int]:
    """Write one DOTA ``labelTxt`` file per FAIR1M xml (categories as :data:`FAIR1M_DOTA_CLASSES`,
    difficulty 0: FAIR1M has no difficulty flag), for ``dota_split.py --classes fair1m-2.0``.

    Every xml is read and checked before anything is written, so bad input leaves ``out_dir`` alone.

    Args:
        xml_dir: A ``labelXml`` folder.
        img_dir: The matching ``images`` folder: every xml needs its image (same stem) and vice versa.
        out_dir: Output folder (created); must not hold ``.txt`` files yet, since the scorer reads every
            ``.txt`` in it as an image of the split.
        allow_missing_labels: Write an empty label file for an image without xml (counted and logged)
            instead of raising.

    Returns:
        Counts: ``images``, ``objects``, ``missing_label_files`` and ``reduced_to_rectangle`` (objects with
        more than 4 distinct points, kept as their minimum-area rectangle and logged with their file).

    Raises:
        FileNotFoundError: A missing folder, an xml without image, or an image without xml.
        DatasetFormatError: A bad xml (see :func:`parse_fair1m_xml`).
        FileExistsError: ``out_dir`` already holds label files.
    """
    for folder, what in ((xml_dir, 'labelXml'), (img_dir, 'images')):
        if not osp.isdir(folder):
            raise FileNotFoundError(f"{what} folder '{folder}' does not exist. Fix: the release keeps "
                                    '{train/part1,train/part2,validation}/{images,labelXml}.')
    if osp.isdir(out_dir) and any(f.endswith('.txt') for f in os.listdir(out_dir)):
        raise FileExistsError(f'{out_dir} already holds .txt label files; remove them or choose another --out-dir '
                              '(the scorer reads every .txt there as an image of the split).')
    xml_stems = sorted(osp.splitext(f)[0] for f in os.listdir(xml_dir) if f.lower().endswith('.xml'))
    img_stems = sorted(osp.splitext(f)[0] for f in os.listdir(img_dir) if osp.splitext(f)[1].lower() in IMG_EXTENSIONS)
    if not xml_stems:
        raise FileNotFoundError(f'no .xml files in {xml_dir}')
    labels: Dict[str, FAIR1MLabels] = {}
    for stem in xml_stems:
        xml = osp.join(xml_dir, stem + '.xml')
        if _find_image(img_dir, stem) is None:
            raise FileNotFoundError(f"{xml} has no image: expected {osp.join(img_dir, stem + '.tif')}. Fix: pass the "
                                    'images folder of the same split (--img-dir), or complete the download.')
        labels[stem] = parse_fair1m_xml(xml)
    missing = sorted(set(img_stems) - set(xml_stems))
    if missing and not allow_missing_labels:
        raise FileNotFoundError(f"{len(missing)} images in {img_dir} have no xml in {xml_dir}, e.g. "
                                f"{osp.join(xml_dir, missing[0] + '.xml')}. Fix: complete the labelXml download, "
                                'or pass --allow-missing-labels to treat them as images without objects.')
    os.makedirs(out_dir, exist_ok=True)
    for stem in sorted(set(xml_stems) | set(missing)):
        lab = labels.get(stem)
        with open(osp.join(out_dir, stem + '.txt'), 'w') as f:
            if lab is not None:
                f.writelines(format_dota_line(p, FAIR1M_TO_DOTA[n], 0) + '\n' for p, n in zip(lab.polys, lab.names))
    reduced = [f'{osp.join(xml_dir, s)}.xml (object {k + 1})' for s, lab in labels.items() for k in lab.reduced]
    if missing:
        print_log(f'FAIR1M: {len(missing)} images without xml written as having no objects: '
                  + ', '.join(missing[:5]), logger='current', level=logging.WARNING)
    if reduced:
        print_log(f'FAIR1M: {len(reduced)} objects with more than 4 distinct points kept as their minimum-area '
                  'rectangle: ' + ', '.join(reduced[:5]), logger='current', level=logging.WARNING)
    counts = dict(images=len(labels) + len(missing), objects=sum(len(lab.names) for lab in labels.values()),
                  missing_label_files=len(missing), reduced_to_rectangle=len(reduced))
    print_log('FAIR1M -> DOTA labelTxt: ' + ', '.join(f'{k}={v}' for k, v in counts.items()) + f' -> {out_dir}',
              logger='current')
    return counts


def write_fair1m_xml(path: str, filename: str, polys: np.ndarray, names: Sequence[str],
                     scores: Optional[Sequence[float]] = None, size: Optional[Tuple[int, int]] = None) -> None:
    """Write one xml in the release's schema: labels (``scores=None``: probability 1) or results.

    Args:
        path: Output ``.xml``.
        filename: ``source/filename``, e.g. ``'1.tif'``.
        polys: ``(N, 8)`` corners; each is written as 5 points (the first repeated, as the release).
        names: ``N`` official category names.
        scores: ``N`` detection scores, written as ``probability``.
        size: ``(width, height)`` for ``<size>``; omitted when None.
    """
    root = ET.Element('annotation')
    source = ET.SubElement(root, 'source')
    ET.SubElement(source, 'filename').text = filename
    if size is not None:
        size_el = ET.SubElement(root, 'size')
        for key, value in (('width', size[0]), ('height', size[1]), ('depth', 3)):
            ET.SubElement(size_el, key).text = str(value)
    objects = ET.SubElement(root, 'objects')
    for k, (poly, name) in enumerate(zip(np.asarray(polys, np.float64).reshape(-1, 8), names)):
        obj = ET.SubElement(objects, 'object')
        for tag, text in (('coordinate', 'pixel'), ('type', 'rectangle'), ('description', 'None')):
            ET.SubElement(obj, tag).text = text
        result = ET.SubElement(obj, 'possibleresult')
        ET.SubElement(result, 'name').text = name
        ET.SubElement(result, 'probability').text = '1' if scores is None else f'{float(scores[k]):.6f}'
        points = ET.SubElement(obj, 'points')
        corners = poly.reshape(4, 2)
        for x, y in np.concatenate([corners, corners[:1]]):
            ET.SubElement(points, 'point').text = f'{x:.6f},{y:.6f}'
    ET.indent(root, space='\t')
    ET.ElementTree(root).write(path, encoding='utf-8', xml_declaration=True)


def write_fair1m_results(task1_dir: str, out_dir: str, image_ext: str = '.tif') -> int:
    """Turn the ``Task1_{category}.txt`` files of a merged test run (``mmrsfm.DOTAMergeMetric`` with
    the FAIR1M dataset) into one result xml per image with the official category names.

    Only the detections are written: the server may ask for other fields or names (its submission
    rules were not available here); check them before submitting. Degenerate detections (fewer than 4
    distinct corners: zero area, they cannot match any object) are left out, counted and logged, since
    a reader of the release format rejects them (:func:`parse_fair1m_xml`).

    Returns:
        The number of xml files written.
    """
    from mmrsfm.evaluation.dota_task1 import read_task1  # the evaluation stack is only needed here
    detections = read_task1(task1_dir, FAIR1M_DOTA_CLASSES)
    os.makedirs(out_dir, exist_ok=True)
    degenerate = {}
    for image, per_class in detections.items():
        names = [FAIR1M_CLASSES[c] for c, dets in enumerate(per_class) for _ in range(len(dets))]
        dets = np.concatenate(per_class) if per_class else np.zeros((0, 9))
        keep = np.array([len(set(map(tuple, d[:8].reshape(4, 2)))) == 4 for d in dets], bool).reshape(-1)
        if not keep.all():
            degenerate[image] = int((~keep).sum())
        write_fair1m_xml(osp.join(out_dir, image + '.xml'), image + image_ext, dets[keep, :8],
                         [n for n, k in zip(names, keep) if k], dets[keep, 8])
    if degenerate:
        print_log(f'FAIR1M results: {sum(degenerate.values())} degenerate detections (< 4 distinct corners) left out: '
                  + ', '.join(f'{k}: {v}' for k, v in list(degenerate.items())[:5]), logger='current',
                  level=logging.WARNING)
    return len(detections)
