"""Runtime components: hooks, optimizer constructors, runner helpers."""
from .fsdp import is_vit_block, vit_block_auto_wrap_policy
from .hooks import InputChannelsCheckHook
from .optimizers import LayerDecayOptimWrapperConstructor

__all__ = ['InputChannelsCheckHook', 'LayerDecayOptimWrapperConstructor', 'is_vit_block', 'vit_block_auto_wrap_policy']
