from .heat_operator import HeatConductionNet
from .rsmamba import RSMamba
from .spectral_vit import SpectralGPT
from .vit import ScalableViT

__all__ = ['HeatConductionNet', 'RSMamba', 'ScalableViT', 'SpectralGPT']
