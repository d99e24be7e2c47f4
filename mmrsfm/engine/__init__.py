"""Runtime components: hooks, optimizer constructors, runner helpers."""
from .hooks import InputChannelsCheckHook
from .optimizers import LayerDecayOptimWrapperConstructor

__all__ = ['InputChannelsCheckHook', 'LayerDecayOptimWrapperConstructor']
