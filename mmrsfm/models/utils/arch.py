"""Architecture tables: one place for the ``arch`` argument every backbone family accepts."""
from typing import Dict, List, Set, Union


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
