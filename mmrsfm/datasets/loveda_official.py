"""LoveDA read straight from its official release layout, with urban/rural domain selection."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.logging import print_log
from mmseg.datasets import LoveDADataset

from mmrsfm.registry import DATASETS
from .file_checks import check_same_size, image_size
from .label_checks import LabelValuesMixin

#: LoveDA's classes, mask values 1..7 in this order (0 is no-data), as listed in the release's README
#: (https://github.com/Junjue-Wang/LoveDA); spelled as mmseg's ``LoveDADataset`` names them
#: ('agricultural' where the README says agriculture), whose metrics report them.
LOVEDA_CLASSES = ('background', 'building', 'road', 'water', 'barren', 'forest', 'agricultural')


@DATASETS.register_module()
class LoveDAOfficialDataset(LabelValuesMixin, LoveDADataset):
    """LoveDA (Wang et al., NeurIPS 2021 Datasets & Benchmarks) without a conversion step.

    The release (zenodo 10.5281/zenodo.5706578: ``Train.zip``, ``Val.zip``, ``Test.zip``) extracts to::

        {data_root}/Train/Urban/images_png/1366.png     RGB 1024x1024, 0.3 m
        {data_root}/Train/Urban/masks_png/1366.png      uint8: 0 no-data, 1 background, 2 building,
        {data_root}/Train/Rural/...                          3 road, 4 water, 5 barren, 6 forest, 7 agriculture
        {data_root}/Val/{Urban,Rural}/...
        {data_root}/Test/{Urban,Rural}/images_png/...   (no masks: scored on the LoveDA server)

    Classes, palette and ``reduce_zero_label=True`` (no-data -> 255, ignored; 1..7 -> 0..6) are
    mmseg's ``LoveDADataset``'s. ``domains`` picks Urban and/or Rural, e.g. the unsupervised domain
    adaptation settings train on ``Train/Rural`` and evaluate on ``Val/Urban`` (Rural -> Urban).

    Every image must have a mask of the same size (checked from the file headers at start-up); the
    test split may have none. Mask values must be 0..7: a mask is checked when it is first loaded (once
    per file and process) and any other value is an error naming the file, the values and the fix
    (mmseg would otherwise crash in the loss once a crop contains it, or leave it out of the scores).

    Args:
        split: ``'train'``, ``'val'`` or ``'test'`` (the ``Train/``, ``Val/``, ``Test/`` folders).
        domains: Any of ``'urban'``, ``'rural'``. Defaults to both.
        check_sizes: Compare every image header with its mask's. Defaults to True.
        label_map: Extra or changed entries ``{mask value: class index}`` (255 = ignored) on top of the
            release's table (0 -> ignored, 1..7 -> 0..6), e.g. ``label_map={9: 255}`` to ignore a value 9
            that your masks hold. Defaults to None.
        check_labels: Check the mask values (see above). Defaults to True.
        **kwargs: ``data_root``, ``pipeline``, ... of mmseg's ``BaseSegDataset`` (``data_prefix`` unused).
    """
    SPLITS = {'train': 'Train', 'val': 'Val', 'test': 'Test'}
    DOMAINS = {'urban': 'Urban', 'rural': 'Rural'}

    LABEL_DATASET = 'LoveDA'
    LABEL_EXPECTED = ('0 = no-data (ignored), 1..7 = background, building, road, water, barren, forest, '
                      'agriculture')

    def __init__(self, split: str = 'train', domains: Sequence[str] = ('urban', 'rural'), check_sizes: bool = True,
                 label_map: Optional[Dict[int, int]] = None, check_labels: bool = True, **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f"LoveDAOfficialDataset: split '{split}' is not one of {sorted(self.SPLITS)}")
        if isinstance(domains, str) or not domains or set(domains) - set(self.DOMAINS):
            raise ValueError(f'LoveDAOfficialDataset: domains {domains!r} must be a non-empty list of '
                             f"{sorted(self.DOMAINS)}, e.g. domains=('rural', )")
        self.split, self.domains, self.check_sizes = split, tuple(domains), check_sizes
        self.file_label_map, self.check_labels = label_map, check_labels
        super().__init__(**kwargs)

    def default_label_table(self) -> Dict[int, int]:
        return {0: 255, **{value: value - 1 for value in range(1, 8)}}

    def load_data_list(self) -> List[Dict]:
        data_list, label_map = [], self.sample_label_map()
        for domain in self.domains:
            folder = osp.join(self.data_root, self.SPLITS[self.split], self.DOMAINS[domain])
            img_dir, mask_dir = osp.join(folder, 'images_png'), osp.join(folder, 'masks_png')
            if not osp.isdir(img_dir):
                raise FileNotFoundError(
                    f"LoveDA: '{img_dir}' does not exist. Fix: set data_root to the folder holding the extracted "
                    f"Train/, Val/ and Test/ of the release (now '{self.data_root}').")
            with_masks = osp.isdir(mask_dir)
            if not with_masks and self.split != 'test':
                raise FileNotFoundError(f"LoveDA {self.split}: '{mask_dir}' does not exist (only Test/ has no masks)")
            names = sorted(f for f in os.listdir(img_dir) if f.endswith(self.img_suffix))
            for name in names:
                info = dict(img_path=osp.join(img_dir, name), label_map=label_map,
                            reduce_zero_label=self.reduce_zero_label, seg_fields=[], domain=domain)
                if with_masks:
                    info['seg_map_path'] = osp.join(mask_dir, name[:-len(self.img_suffix)] + self.seg_map_suffix)
                    if not osp.isfile(info['seg_map_path']):
                        raise FileNotFoundError(f"LoveDA: image '{info['img_path']}' has no mask "
                                                f"'{info['seg_map_path']}'. Fix: restore it from the release.")
                    if self.check_sizes:
                        check_same_size(info['img_path'], image_size(info['img_path']), info['seg_map_path'],
                                        image_size(info['seg_map_path']))
                data_list.append(info)
            print_log(f'LoveDA {self.split}/{domain}: {len(names)} images'
                      f'{"" if with_masks else " (no masks)"}', logger='current')
        if not data_list:
            raise FileNotFoundError(f'LoveDA {self.split}: no {self.img_suffix} images for domains {self.domains} '
                                    f"under '{self.data_root}'")
        return data_list
