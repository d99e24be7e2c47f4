from .heat_operator import HeatConductionNet
from .spectral_vit import SpectralGPT
from .vit import ScalableViT

__all__ = ['HeatConductionNet', 'ScalableViT', 'SpectralGPT']
