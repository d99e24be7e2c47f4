"""Runtime components: hooks, optimizer constructors, runner helpers."""
from .hooks import InputChannelsCheckHook

__all__ = ['InputChannelsCheckHook']
