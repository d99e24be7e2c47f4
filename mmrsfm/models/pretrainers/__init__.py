from .freq_mask import FrequencyMaskPretrainer, MultiModalDataPreprocessor, sector_masks

__all__ = ['FrequencyMaskPretrainer', 'MultiModalDataPreprocessor', 'sector_masks']
