"""The contract every mmrsfm pretrainer follows, so that runners, tools and tests can treat them alike.

A pretrainer wraps an unmodified backbone and adds what self-supervised training needs around it. The
method names are MAE's (He et al., CVPR 2022, ``facebookresearch/mae`` ``models_mae.py``):

* :meth:`BasePretrainer.forward_encoder` corrupts (masks) a batch and encodes it with the backbone;
* :meth:`BasePretrainer.forward_decoder` turns the encoder output into the raw decoder output;
* :meth:`BasePretrainer.forward_loss` compares a prediction with its target: a dict of losses.

Their arguments are the algorithm's own (token masks and restore indices for MAE, DCT masks for
frequency masking); :meth:`BasePretrainer.forward` is the same for all of them:

* ``mode='loss'``: ``dict`` of scalar losses (keys with ``loss`` are summed by mmengine);
* ``mode='predict'``: a list of :class:`~mmengine.structures.BaseDataElement`, one per reconstructed
  image (see :meth:`BasePretrainer.pack_predictions` for the layout);
* ``mode='tensor'``: the raw decoder output of one masked pass (its layout is the pretrainer's own,
  e.g. (B, L, patch pixels) for MAE).

The decoder width is ``decoder_embed_dims`` in every pretrainer.
"""
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

MODES = ('loss', 'predict', 'tensor')
MASK_DOMAINS = ('pixel', 'dct')


class BasePretrainer(BaseModel):
    """Base of the masked-reconstruction pretrainers: ``forward`` dispatch and one predict format.

    Subclasses implement :meth:`forward_encoder`, :meth:`forward_decoder`, :meth:`forward_loss`
    and, on top of them, :meth:`loss`, :meth:`predict` (through :meth:`pack_predictions`) and
    :meth:`_forward`.
    """

    def forward(self, inputs: Any, data_samples: Optional[Sequence[Any]] = None,
                mode: str = 'loss') -> Union[Dict[str, torch.Tensor], List[BaseDataElement], Any]:
        """``loss``: dict of losses; ``predict``: list of :class:`BaseDataElement` (see
        :meth:`pack_predictions`); ``tensor``: the raw decoder output."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise ValueError(f'{type(self).__name__}: mode must be one of {MODES}, got {mode!r}')

    @abstractmethod
    def forward_encoder(self, *args, **kwargs) -> Any:
        """Mask a batch and encode it with the backbone."""

    @abstractmethod
    def forward_decoder(self, *args, **kwargs) -> Any:
        """Encoder output -> raw decoder output (the reconstruction in the pretrainer's layout)."""

    @abstractmethod
    def forward_loss(self, *args, **kwargs) -> Dict[str, torch.Tensor]:
        """Prediction vs. target -> ``dict`` of scalar losses."""

    @abstractmethod
    def loss(self, inputs: Any, data_samples: Optional[Sequence[Any]] = None) -> Dict[str, torch.Tensor]:
        """One masked pass over a preprocessed batch -> ``dict`` of scalar losses."""

    @abstractmethod
    def predict(self, inputs: Any, data_samples: Optional[Sequence[Any]] = None) -> List[BaseDataElement]:
        """One masked pass -> :meth:`pack_predictions` output."""

    @abstractmethod
    def _forward(self, inputs: Any, data_samples: Optional[Sequence[Any]] = None) -> Any:
        """One masked pass -> the raw decoder output."""

    @staticmethod
    def pack_predictions(pred: torch.Tensor,
                         target: torch.Tensor,
                         mask: torch.Tensor,
                         mask_domain: str = 'pixel',
                         modality: Optional[str] = None,
                         data_samples: Optional[Sequence[Any]] = None) -> List[BaseDataElement]:
        """The predict format shared by all pretrainers: one element per reconstructed image.

        Each element holds, for image ``i`` of the batch:

        * ``pred``: (C, H, W) reconstruction, in the space of ``target``;
        * ``target``: (C, H, W) what the loss compares ``pred`` with (the preprocessed image, or its
          per-patch normalised pixels when the pretrainer normalises targets);
        * ``mask``: (1 or C, H, W) float map, 1 where the input was hidden from the encoder;
          broadcastable to ``pred``;

        and the metainfo ``mask_domain`` (``'pixel'``: ``mask`` covers image pixels; ``'dct'``:
        it covers coefficients of the orthonormal 2-D DCT of the image), ``modality`` (the input's
        key in a multi-modal batch, else None) and the metainfo of ``data_samples[i]``, if given.
        A pretrainer reconstructing several modalities of a batch concatenates their lists in
        modality order.

        Args:
            pred: (B, C, H, W) reconstructions.
            target: (B, C, H, W) targets.
            mask: (B, 1 or C, H, W), 1 = hidden.
            mask_domain: ``'pixel'`` or ``'dct'``. Defaults to 'pixel'.
            modality: Modality name, if any. Defaults to None.
            data_samples: Per-image data samples or meta dicts whose metainfo is copied.
                Defaults to None.
        """
        if mask_domain not in MASK_DOMAINS:
            raise ValueError(f'mask_domain must be one of {MASK_DOMAINS}, got {mask_domain!r}')
        if pred.ndim != 4 or pred.shape != target.shape:
            raise ValueError(f'pred and target must both be (B, C, H, W), got {tuple(pred.shape)} and '
                             f'{tuple(target.shape)}')
        b, c, h, w = pred.shape
        if mask.ndim != 4 or mask.shape[0] != b or mask.shape[1] not in (1, c) or mask.shape[2:] != (h, w):
            raise ValueError(f'mask must be (B, 1 or C, H, W) = ({b}, 1|{c}, {h}, {w}), got {tuple(mask.shape)}')
        if data_samples is not None and len(data_samples) != b:
            raise ValueError(f'{len(data_samples)} data samples for a batch of {b}')
        mask = mask.to(pred.dtype)
        out = []
        for i in range(b):
            meta = _metainfo(data_samples[i]) if data_samples is not None else {}
            meta.update(mask_domain=mask_domain, modality=modality)
            out.append(BaseDataElement(metainfo=meta, pred=pred[i], target=target[i], mask=mask[i]))
        return out


def _metainfo(sample: Any) -> dict:
    """Metainfo of a data sample (an mmengine data element or the meta dict of a packing transform)."""
    if isinstance(sample, BaseDataElement):
        return dict(sample.metainfo)
    return dict(sample) if isinstance(sample, dict) else {}
