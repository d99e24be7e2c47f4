"""Unlabeled image folders for self-supervised pretraining: optical, SAR, or paired optical-SAR."""
import os
import os.path as osp
from typing import Dict, List, Sequence

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmrsfm.registry import DATASETS
from .file_checks import IMG_EXTENSIONS


def _list_images(folder: str, recursive: bool = False) -> List[str]:
    """Image files under ``folder`` as paths relative to it, sorted; with ``recursive`` also those
    in its subfolders (e.g. MillionAID's category tree)."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f"image folder '{folder}' does not exist (set data_root / data_prefix)")
    if not recursive:
        return sorted(f for f in os.listdir(folder) if f.lower().endswith(IMG_EXTENSIONS))
    return sorted(osp.relpath(osp.join(d, f), folder) for d, _, fs in os.walk(folder, followlinks=True)
                  for f in fs if f.lower().endswith(IMG_EXTENSIONS))


def _by_stem(folder: str, files: List[str]) -> Dict[str, str]:
    """``{path without extension: file}``; two files differing only by extension would be one sample
    of which one file is lost, so they are an error."""
    out: Dict[str, str] = {}
    for f in files:
        stem = osp.splitext(f)[0]
        if stem in out:
            raise ValueError(f"'{osp.join(folder, out[stem])}' and '{osp.join(folder, f)}' differ only by "
                             f'extension; keep one of them (samples are keyed by name without extension)')
        out[stem] = f
    return out


@DATASETS.register_module()
class MultiModalImageFolder(BaseDataset):
    """Images under one folder per modality; ``data_prefix=dict(opt='optical/', sar='sar/')``.

    With one modality every image is a sample. With several, samples are the file *stems* present in
    every folder (a paired optical-SAR scene); stems missing from some folder are skipped and counted
    in the log, never silently. Each sample's ``img_path`` is ``{modality: path}``.

    Args:
        modalities: Modality names, each a key of ``data_prefix``. Defaults to ``('opt', )``.
        recursive: Also take images in subfolders (MillionAID's ``train/<category>/.../*.jpg``); paired
            modalities then match by path relative to their folder. Defaults to False.
    """

    def __init__(self, *args, modalities: Sequence[str] = ('opt', ), recursive: bool = False, **kwargs) -> None:
        self.modalities = tuple(modalities)
        self.recursive = recursive
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[Dict]:
        missing = [m for m in self.modalities if m not in self.data_prefix]
        if missing:
            raise KeyError(f'data_prefix has no folder for modalities {missing}: '
                           f"give e.g. data_prefix=dict({missing[0]}='{missing[0]}/')")
        by_stem = {m: _by_stem(self.data_prefix[m], _list_images(self.data_prefix[m], self.recursive))
                   for m in self.modalities}
        stems = set.intersection(*(set(s) for s in by_stem.values()))
        unpaired = sum(len(s) for s in by_stem.values()) - len(stems) * len(self.modalities)
        if unpaired:
            print_log(f'{type(self).__name__}: skipped {unpaired} image(s) without a counterpart in every '
                      f'modality folder {self.modalities}', logger='current')
        if not stems:
            raise ValueError(f'no images found for modalities {self.modalities} under '
                             f'{[self.data_prefix[m] for m in self.modalities]}')
        return [dict(img_path={m: osp.join(self.data_prefix[m], by_stem[m][s]) for m in self.modalities},
                     img_id=s) for s in sorted(stems)]
