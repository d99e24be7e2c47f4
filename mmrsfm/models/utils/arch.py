"""Architecture tables: one place for the ``arch`` argument every backbone family accepts."""
import warnings
from typing import Dict, List, Optional, Set, Union


def parse_arch(arch: Union[str, dict], arch_zoo: Dict[str, dict], essential_keys: Set[str]) -> dict:
    """A copy of ``arch_zoo[arch]`` (names are case-insensitive), or of a custom ``arch`` dict after
    checking it has every key in ``essential_keys``; a clear error otherwise."""
    if isinstance(arch, str):
        if arch.lower() not in arch_zoo:
            raise ValueError(f"arch '{arch}' is not one of {sorted(arch_zoo)}")
        return dict(arch_zoo[arch.lower()])
    missing = set(essential_keys) - set(arch)
    if missing:
        raise ValueError(f'custom arch dict misses {sorted(missing)} (needs {sorted(essential_keys)})')
    return dict(arch)


def loads_pretrained(init_cfg: Union[None, dict, List[dict]]) -> bool:
    """Whether an mmengine ``init_cfg`` (a dict or a list of dicts) loads a ``Pretrained`` checkpoint,
    in which case a backbone skips its own random initialisation."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs)


#: Model-zoo names of mmengine's checkpoint loaders: weights of other architectures (ResNets, ...).
_ZOO_PREFIXES = ('open-mmlab://', 'openmmlab://', 'torchvision://', 'modelzoo://', 'mmcls://')


def pretrained_to_init_cfg(pretrained: Optional[str], init_cfg: Union[None, dict, List[dict]],
                           backbone: str) -> Union[None, dict, List[dict]]:
    """The ``init_cfg`` of a backbone given the ``pretrained`` argument base configs may hand it.

    mmseg's ``EncoderDecoder`` forwards the model-level ``pretrained`` of the config a user inherits
    (``mmseg::_base_/models/upernet_r50.py`` sets ``'open-mmlab://resnet50_v1c'``) to whatever backbone
    the user swaps in. Every mmrsfm backbone calls this first in ``__init__``:

    - ``None``: ``init_cfg`` unchanged;
    - a model-zoo name (``open-mmlab://``, ``torchvision://``, ...): ``ValueError`` saying to set
      ``pretrained=None`` (those are another architecture's weights; loading them non-strictly would
      leave the backbone randomly initialised without a word);
    - any other path or URL: ``dict(type='Pretrained', checkpoint=pretrained)``, with a
      ``FutureWarning`` (mmseg's own backbones warn too); together with ``init_cfg`` it is an
      error.
    """
    if pretrained is None:
        return init_cfg
    if not isinstance(pretrained, str):
        raise TypeError(f'{backbone}: pretrained must be a checkpoint path or None, got {pretrained!r}')
    if pretrained.startswith(_ZOO_PREFIXES):
        raise ValueError(
            f"{backbone} got pretrained='{pretrained}': weights of another architecture, forwarded to the "
            f"backbone from the model-level `pretrained` of the base config you inherit (mmseg's EncoderDecoder "
            f'does this, e.g. for mmseg::_base_/models/upernet_r50.py). Fix: set pretrained=None in your model '
            f"dict: model = dict(pretrained=None, backbone=dict(_delete_=True, type='mmrsfm.{backbone}', ...)), "
            f"and load {backbone} weights with backbone init_cfg=dict(type='Pretrained', checkpoint=...).")
    if init_cfg is not None:
        raise ValueError(f"{backbone}: got both pretrained='{pretrained}' and init_cfg={init_cfg}; give only "
                         f"init_cfg=dict(type='Pretrained', checkpoint=...) (and pretrained=None at model level).")
    warnings.warn(f"{backbone}: pretrained='{pretrained}' is deprecated, use "
                  f"init_cfg=dict(type='Pretrained', checkpoint='{pretrained}')", FutureWarning, stacklevel=3)
    return dict(type='Pretrained', checkpoint=pretrained)
