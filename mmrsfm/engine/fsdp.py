"""FSDP policies for mmengine's ``FSDPStrategy`` on the ViT family, registered in ``FUNCTIONS`` so configs
name them as strings (``auto_wrap_policy=dict(type='mmrsfm.vit_block_auto_wrap_policy')``,
``activation_checkpointing=dict(check_fn='mmrsfm.is_vit_block')``)."""
from torch import nn

from mmrsfm.registry import FUNCTIONS
from ..models.backbones.scalable_vit import TransformerBlock


@FUNCTIONS.register_module()
def vit_block_auto_wrap_policy(module: nn.Module, recurse: bool, nonwrapped_numel: int = 0, **kwargs) -> bool:
    """FSDP ``auto_wrap_policy``: one FSDP unit per :class:`TransformerBlock` (encoder and decoder);
    everything else (embeddings, norms, heads) goes to the root unit."""
    return True if recurse else isinstance(module, TransformerBlock)


@FUNCTIONS.register_module()
def is_vit_block(module: nn.Module) -> bool:
    """``check_fn`` of FSDP activation checkpointing: checkpoint each :class:`TransformerBlock`."""
    return isinstance(module, TransformerBlock)
