from .heat_operator import HeatConductionNet
from .vit import ScalableViT

__all__ = ['HeatConductionNet', 'ScalableViT']
