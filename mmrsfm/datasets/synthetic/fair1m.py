"""FAIR1M-2.0 in its released layout (tif images + labelXml), large enough that the splitter must tile."""
import os
import os.path as osp
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

from ..fair1m import FAIR1M_CLASSES, write_fair1m_xml
from ._common import _DOTA_LOOK, _draw_scene, writer

#: FAIR1M categories drawn like their DOTA counterparts (others get a random grey).
_FAIR1M_LOOKS = {'Boeing737': _DOTA_LOOK['plane'], 'Dry Cargo Ship': _DOTA_LOOK['ship'],
                 'Small Car': _DOTA_LOOK['small-vehicle'], 'Tennis Court': ((200, 200, 60), 1.8)}


@writer('fair1m')
def make_fair1m(root: str,
                num_train: int = 3,
                num_val: int = 2,
                num_test: int = 1,
                size: int = 1500,
                classes: Sequence[str] = ('Boeing737', 'Dry Cargo Ship', 'Small Car', 'Tennis Court'),
                max_objects: int = 40,
                object_size: Tuple[float, float] = (30., 60.),
                seed: int = 0) -> Dict[str, str]:
    """Write FAIR1M-2.0 as released: ``train/part1/{images,labelXml}``, ``validation/{images,labelXml}``
    and ``test/images`` (no labels), images ``N.tif`` of ``size x round(0.8 * size)`` pixels and one xml per
    image in the release's schema (:func:`mmrsfm.datasets.fair1m.write_fair1m_xml`: 5 points per object,
    the first repeated). Convert with ``tools/dataset_converters/fair1m.py to-dota``.

    Args:
        root: Output directory (created).
        num_train: Images in ``train/part1``.
        num_val: Images in ``validation``.
        num_test: Images in ``test`` (no labels, as in the release).
        size: Image width; the real images are 1,000 to 10,000 px.
        classes: Official FAIR1M names to draw (names with spaces exercise the name mapping).
        max_objects: Objects per image are drawn uniformly from 1..max_objects.
        object_size: ``(min, max)`` long side of an object in pixels.
        seed: Random seed; the same seed writes identical files.

    Returns:
        ``{split: split directory}``.
    """
    unknown = sorted(set(classes) - set(FAIR1M_CLASSES))
    if unknown:
        raise ValueError(f'classes {unknown} are not FAIR1M categories: {FAIR1M_CLASSES}')
    rng = np.random.default_rng(seed)
    width, height = size, round(0.8 * size)
    out, index = {}, 0
    for split, folder, count in (('train', 'train/part1', num_train), ('val', 'validation', num_val),
                                 ('test', 'test', num_test)):
        img_dir, xml_dir = osp.join(root, folder, 'images'), osp.join(root, folder, 'labelXml')
        os.makedirs(img_dir, exist_ok=True)
        if split != 'test':
            os.makedirs(xml_dir, exist_ok=True)
        for _ in range(count):
            img, objects = _draw_scene(rng, (width, height), classes, max_objects, looks=_FAIR1M_LOOKS,
                                       object_size=object_size)
            name = str(index)  # the release numbers its images 0.tif, 1.tif, ...
            index += 1
            cv2.imwrite(osp.join(img_dir, name + '.tif'), img)
            if split != 'test':
                polys = np.array([p.reshape(-1) for p, _ in objects]).reshape(-1, 8)
                write_fair1m_xml(osp.join(xml_dir, name + '.xml'), name + '.tif', polys, [c for _, c in objects],
                                 size=(width, height))
        out[split] = osp.join(root, folder)
    return out
