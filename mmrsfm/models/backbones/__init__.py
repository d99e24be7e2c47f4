"""Backbones, one file per family: RS-vHeat (``rs_vheat``), SpectralGPT (``spectralgpt``), the
billion-scale RS ViT (``scalable_vit``) and RS4D's state-space backbone (``rsmamba``)."""
from .rs_vheat import HeatConductionNet, RSvHeat
from .multimodal_fusion import MultiModalRSvHeat
from .rsmamba import RSMamba
from .scalable_vit import ScalableViT
from .spectralgpt import SpectralGPT

__all__ = ['RSvHeat', 'MultiModalRSvHeat', 'HeatConductionNet', 'RSMamba', 'ScalableViT', 'SpectralGPT']
