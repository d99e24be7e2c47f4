"""Per-layer helpers shared by the plain (columnar) backbones: output layer indices, layer ids for
layer-wise lr decay and freezing of leading stages."""
from typing import Sequence, Tuple, Union

from torch import nn


def check_out_indices(out_indices: Sequence[int], depth: int, unit: str = 'block') -> Tuple[int, ...]:
    """``out_indices`` as sorted, unique, non-negative indices of ``depth`` layers (negative ones count
    from the end); an index outside the ``depth`` layers (called ``unit`` in the error) is an error."""
    for i in out_indices:
        if not -depth <= i < depth:
            raise ValueError(f'out_indices {tuple(out_indices)}: {i} is not a {unit} of {depth}')
    return tuple(sorted({i % depth for i in out_indices}))  # a new tuple: the caller's stays untouched


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
