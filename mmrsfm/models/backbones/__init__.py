from .heat_operator import HeatConductionNet

__all__ = ['HeatConductionNet']
