from .freq_mask import FrequencyMaskPretrainer, MultiModalDataPreprocessor, sector_masks
from .mae import MAEPretrainer
from .spectral_mae import SpectralMAE

__all__ = ['FrequencyMaskPretrainer', 'MultiModalDataPreprocessor', 'sector_masks', 'MAEPretrainer', 'SpectralMAE']
