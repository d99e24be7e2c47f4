"""Version windows of the OpenMMLab packages mmrsfm runs on, checked at import time.

Two stacks are supported and install the same module names (``mmengine``, ``mmcv``, ``mmdet``,
``mmseg``, ``mmrotate``, ``mmpretrain``): the last official OpenMMLab releases (default) and the maintained
``onedl-*`` forks. The checks below read installed *distribution metadata* rather than importing mmdet/mmseg/
mmrotate, so ``import mmrsfm`` stays cheap.
"""
from dataclasses import dataclass
from importlib import metadata, util
from typing import Dict, Optional, Tuple

from packaging.version import Version

FIX_HINT = ('Run `tools/setup_env.sh` from the mmrsfm checkout (it builds mmcv\'s ops against your '
            'torch), or see README "Dependencies".')


@dataclass(frozen=True)
class Requirement:
    """Supported version window of one module, with the pip lines that satisfy it."""
    module: str
    minimum: str
    maximum: str  # exclusive
    required: bool  # False: only needed by some tasks; checked when installed
    install: Tuple[str, str]  # (official stack, onedl stack)


REQUIREMENTS = (
    Requirement('mmengine', '0.10.4', '0.11.0', True,
                ('mmengine==0.10.7', 'onedl-mmengine==0.10.12')),
    Requirement('mmcv', '2.1.0', '2.4.0', True,
                ('mmcv==2.1.0', 'onedl-mmcv==2.3.6')),
    Requirement('mmdet', '3.3.0', '3.6.0', False,
                ('mmdet==3.3.0', 'onedl-mmdetection==3.5.1')),
    Requirement('mmseg', '1.2.2', '1.5.0', False,
                ('mmsegmentation==1.2.2', 'onedl-mmsegmentation==1.4.2')),
    Requirement('mmrotate', '1.0.0rc1', '1.3.0', False,
                ('mmrotate-dev==1.0.1', 'onedl-mmrotate==1.2.1')),
    # Scene classification (ImageClassifier, its heads, metrics, transforms). mmpretrain 1.2.0 pins
    # mmcv<2.4 and installs and imports with torch 2.10 + mmcv 2.1.0 + mmengine 0.10.7.
    Requirement('mmpretrain', '1.2.0', '1.4.0', False,
                ('mmpretrain==1.2.0', 'onedl-mmpretrain==1.3.6')),
)


class DependencyError(ImportError):
    """An OpenMMLab package is missing, unsupported, or built without its compiled ops."""


def _installed(module: str) -> Optional[Tuple[str, str]]:
    """(distribution, version) that provides top-level ``module``, or None."""
    dists = metadata.packages_distributions().get(module, [])
    # The lite builds of mmcv/mmengine have no compiled ops / trimmed APIs; prefer a full build when
    # both are (wrongly) installed so that the ops check below reports the real problem.
    for dist in sorted(set(dists), key=lambda d: d.endswith('-lite')):
        try:
            return dist, metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    if util.find_spec(module) is not None:  # e.g. a source checkout on PYTHONPATH
        mod = __import__(module)
        return module, getattr(mod, '__version__', '0')
    return None


def stack_versions() -> Dict[str, Optional[str]]:
    """Versions of torch and the OpenMMLab packages, as ``{module: 'dist==version'}``."""
    out = {}
    for module in ('torch', 'torchvision') + tuple(r.module for r in REQUIREMENTS):
        found = _installed(module)
        out[module] = None if found is None else f'{found[0]}=={found[1]}'
    return out


def check_dependencies() -> None:
    """Raise :class:`DependencyError` naming exactly what to install when the stack is unusable."""
    problems = []
    for req in REQUIREMENTS:
        found = _installed(req.module)
        window = f'{req.module}>={req.minimum},<{req.maximum}'
        fix = f'pip install {req.install[0]}  (or, with the onedl forks: pip install {req.install[1]})'
        if found is None:
            if req.required:
                problems.append(f'{req.module} is not installed; mmrsfm needs {window}. Fix: {fix}')
            continue
        dist, version = found
        if not Version(req.minimum) <= Version(version) < Version(req.maximum):
            problems.append(f'{dist}=={version} is installed but mmrsfm needs {window}. '
                            f'Fix: pip uninstall -y {dist} && {fix}')
        elif req.module == 'mmcv' and (dist.endswith('-lite') or util.find_spec('mmcv._ext') is None):
            problems.append(f'{dist}=={version} has no compiled ops (mmcv._ext), which rotated boxes '
                            f'and RoI ops need. Fix: build it with MMCV_WITH_OPS=1 '
                            f'(pip install --no-build-isolation {req.install[0]})')
    if problems:
        raise DependencyError('mmrsfm cannot run on this environment:\n  - ' + '\n  - '.join(problems) +
                              f'\n{FIX_HINT}')
