"""Per-layer helpers shared by the plain (columnar) backbones: layer ids for layer-wise lr decay and
freezing of leading stages."""
from typing import Sequence, Tuple, Union

from torch import nn


def columnar_layer_depth(param_name: str, prefix: str, num_layers: int,
                         stem: Sequence[str] = ('patch_embed.', 'pos_embed'),
                         layers: Sequence[str] = ('blocks.', )) -> Tuple[int, int]:
    """Layer id of a parameter of a backbone made of a stem and ``num_layers`` equal layers.

    Stem parameters (names starting with ``stem``) get 0, ``<layers>{i}.*`` gets ``i + 1``, everything
    else (final norms, output heads, parameters outside ``prefix``) ``num_layers + 1``.

    Returns:
        (layer_id, num_layers + 2), what mmengine/mmpretrain layer-decay constructors expect.
    """
    total = num_layers + 2
    if not param_name.startswith(prefix):
        return total - 1, total
    name = param_name[len(prefix):]
    if name.startswith(tuple(stem)):
        return 0, total
    if name.startswith(tuple(layers)):
        return int(name.split('.')[1]) + 1, total
    return total - 1, total


def freeze(*parts: Union[nn.Module, nn.Parameter]) -> None:
    """Stop gradients of the given modules/parameters and put the modules in eval mode (their norm
    statistics and dropout stay fixed)."""
    for part in parts:
        if isinstance(part, nn.Parameter):
            part.requires_grad = False
            continue
        part.eval()
        for p in part.parameters():
            p.requires_grad = False
