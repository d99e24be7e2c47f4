from ..data_preprocessors.multimodal import MultiModalDataPreprocessor  # noqa: F401  moved; importable here until v0.3
from .base_pretrainer import BasePretrainer
from .frequency_mask_pretrainer import FrequencyMaskPretrainer, sector_masks
from .mae_pretrainer import MAEPretrainer
from .spectral_mae import SpectralMAE

__all__ = ['BasePretrainer', 'FrequencyMaskPretrainer', 'sector_masks', 'MAEPretrainer', 'SpectralMAE']
