"""Label-file value checks: every value in a label file must be one its dataset declares.

Without them a stray value fails late and anonymously (LEVIR-CD: ``IndexError: Target 76 is out of
bounds`` inside ``F.cross_entropy``, or a LoveDA value 9 once a random crop happens to contain it) or
not at all (OSCD maps only 1/2, so any other value passes through; at test time mmseg leaves values
>= num_classes out of the scores). Here a file is checked when it is first loaded, and the error
names the file, the values found (with their pixel counts), the values the dataset expects and the
fix, including the explicit way to accept other values: the dataset's ``label_map``.

Each (file, accepted values) pair is checked once per process (:data:`_CHECKED`); the check itself is
a histogram of the label (~1 ms for a 1024x1024 uint8 map), so it stays on by default.
"""
from typing import Dict, FrozenSet, Iterable, Mapping, Optional, Set, Tuple

import numpy as np

from .file_checks import DatasetFormatError

#: (file, accepted values) pairs already checked in this process.
_CHECKED: Set[Tuple[str, FrozenSet[int]]] = set()
#: Pixel value meaning "ignored" in the training ids of mmseg (and here).
IGNORE_INDEX = 255


def was_checked(path: str, allowed: Iterable[int]) -> bool:
    """Whether ``path`` already passed :func:`check_label_values` with these accepted values."""
    return (path, frozenset(int(v) for v in allowed)) in _CHECKED


def value_counts(label: np.ndarray) -> Dict[int, int]:
    """``{value: pixels}`` of an integer label map (a histogram for 8-bit maps, else ``np.unique``)."""
    if label.dtype == np.uint8:
        counts = np.bincount(label.ravel(), minlength=256)
        return {int(v): int(counts[v]) for v in np.flatnonzero(counts)}
    values, counts = np.unique(label, return_counts=True)
    return {int(v) if float(v).is_integer() else float(v): int(n) for v, n in zip(values, counts)}


def format_values(bad: Mapping[int, int], limit: int = 8) -> str:
    """``'{76: 1234 px, 128: 20 px, ...}'``, the most frequent first, and how many values in all."""
    top = sorted(bad.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ', '.join(f'{v}: {n} px' for v, n in top[:limit])
    more = f', ... ({len(bad)} unexpected values in all)' if len(bad) > limit else ''
    return '{' + shown + more + '}'


def check_label_values(path: str, label: np.ndarray, allowed: Iterable[int], dataset: str, expected: str,
                       example_map: Optional[str] = None) -> None:
    """Raise :class:`DatasetFormatError` when ``label`` holds a value outside ``allowed``.

    Args:
        path: The label file (named in the message; also the cache key).
        label: Its values as stored (before any ``reduce_zero_label`` / ``label_map``).
        allowed: The values the dataset accepts.
        dataset: Dataset name for the message, e.g. ``'LEVIR-CD'``.
        expected: What the accepted values mean, e.g. ``'0 = unchanged, 255 = changed'``.
        example_map: A ``label_map=...`` example for the message; defaults to mapping the most
            frequent unexpected value to ignored (255).
    """
    accepted = frozenset(int(v) for v in allowed)
    key = (path, accepted)
    if key in _CHECKED:
        return
    counts = value_counts(np.asarray(label))
    bad = {v: n for v, n in counts.items() if v not in accepted}
    if bad:
        first = max(bad, key=lambda v: bad[v])
        example = example_map or f'label_map={{{first}: {IGNORE_INDEX}}}'
        raise DatasetFormatError(
            f"{dataset} label '{path}' has values {format_values(bad)} (value: pixels) that are not "
            f'{dataset} label values ({expected}; accepted: {sorted(accepted)}). Without this check they '
            f'would crash the loss far from this file (IndexError: Target ... is out of bounds) or be left out '
            f'of the scores silently. Fix: restore this file from the official release (a resampled, '
            f'JPEG-compressed or colour-mapped copy holds other values); if your labels legitimately use '
            f'other values, declare them in the dataset config with label_map (label-file value -> class '
            f'index, {IGNORE_INDEX} = ignored), e.g. {example}.')
    _CHECKED.add(key)


def merge_label_map(table: Mapping[int, int], label_map: Optional[Mapping[int, int]], dataset: str,
                    num_classes: int) -> Dict[int, int]:
    """The dataset's ``{file value: class index}`` table updated with a user's ``label_map``.

    Raises:
        ValueError: ``label_map`` is not a dict of integers, or maps to an index that is neither a
            class (``0 .. num_classes - 1``) nor ignored (255).
    """
    merged = {int(k): int(v) for k, v in table.items()}
    if label_map is None:
        return merged
    if not isinstance(label_map, Mapping):
        raise ValueError(f'{dataset}: label_map must be a dict {{label-file value: class index}}, got {label_map!r}')
    for value, index in label_map.items():
        if not (isinstance(value, (int, np.integer)) and isinstance(index, (int, np.integer))):
            raise ValueError(f'{dataset}: label_map entries must be integers, got {value!r}: {index!r}')
        if not (0 <= int(index) < num_classes or int(index) == IGNORE_INDEX):
            raise ValueError(f'{dataset}: label_map maps {value} to {index}, which is neither a class index '
                             f'(0..{num_classes - 1}) nor ignored ({IGNORE_INDEX})')
        merged[int(value)] = int(index)
    return merged


class LabelValuesMixin:
    """Label-file values of an mmseg dataset: a documented table, a user ``label_map`` on top, the check.

    A subclass (listed before mmseg's dataset class) defines :meth:`default_label_table` (label-file
    value -> class index of its ``METAINFO['classes']``, 255 = ignored), :attr:`LABEL_DATASET` and
    :attr:`LABEL_EXPECTED`, and stores the user's ``label_map`` argument in ``self.file_label_map``
    before calling mmseg's ``__init__``. Then:

    - :meth:`sample_label_map` is the ``label_map`` a sample needs for mmseg's ``LoadAnnotations``
      (applied after ``reduce_zero_label``, as mmseg does), composed with a class subset
      (``metainfo=dict(classes=...)``);
    - :meth:`prepare_data` checks each sample's label file once per process
      (:func:`check_label_values`) before the pipeline reads it. Datasets whose own loading transform
      checks the values (``LoadCDAnnotations``) set :attr:`CHECK_IN_PREPARE` to False.
    """
    LABEL_DATASET: str = 'dataset'
    LABEL_EXPECTED: str = 'the class indices'
    CHECK_IN_PREPARE: bool = True
    file_label_map: Optional[Dict[int, int]] = None
    check_labels: bool = True

    def default_label_table(self) -> Dict[int, int]:
        """Label-file value -> class index (255 = ignored) of the official release."""
        return {i: i for i in range(len(type(self).METAINFO['classes']))}

    def label_table(self) -> Dict[int, int]:
        """:meth:`default_label_table` updated with the user's ``label_map``."""
        return merge_label_map(self.default_label_table(), self.file_label_map, self.LABEL_DATASET,
                               len(type(self).METAINFO['classes']))

    def accepted_label_values(self) -> Tuple[int, ...]:
        return tuple(sorted(self.label_table()))

    def _class_subset_map(self) -> Dict[int, int]:
        from mmseg.datasets import BaseSegDataset
        new_classes = self._metainfo.get('classes')
        return BaseSegDataset.get_label_map.__func__(type(self), new_classes) or {}

    def sample_label_map(self) -> Optional[Dict[int, int]]:
        """``{value after reduce_zero_label: training id}`` for the samples (None when the identity)."""
        class_map, out = self._class_subset_map(), {}
        for value, index in self.label_table().items():
            if self.reduce_zero_label:  # mmseg: 0 -> 255, v -> v - 1, before the label_map
                value = IGNORE_INDEX if value in (0, IGNORE_INDEX) else value - 1
            target = class_map.get(index, index)
            if out.get(value, target) != target:
                raise ValueError(f'{self.LABEL_DATASET}: with reduce_zero_label=True, label-file values 0 and '
                                 f'{IGNORE_INDEX} are both ignored and cannot be mapped to a class by label_map')
            if value != target:
                out[value] = target
        return out or None

    def prepare_data(self, idx: int):
        if self.CHECK_IN_PREPARE and self.check_labels:
            path = self.get_data_info(idx).get('seg_map_path')
            allowed = self.accepted_label_values()
            if path and not was_checked(path, allowed):
                from .raster import read_raster
                check_label_values(path, read_raster(path, 'unchanged')[..., 0], allowed, self.LABEL_DATASET,
                                   self.LABEL_EXPECTED)
        return super().prepare_data(idx)
