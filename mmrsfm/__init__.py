"""mmrsfm: remote-sensing foundation models as an OpenMMLab plugin.

Importing the package checks that the OpenMMLab packages it runs on are installed in versions it
supports, and fails with the exact install command otherwise. Components are registered lazily
through :mod:`mmrsfm.registry` (``locations=``), so configs can use ``type='mmrsfm.Xxx'`` or
``custom_imports=dict(imports=['mmrsfm'])`` without calling ``register_all_modules()``.
"""
from .utils.dependencies import check_dependencies, stack_versions
from .utils.safe_load import allow_runner_checkpoints
from .version import __version__

check_dependencies()
# Runner checkpoints (iter_N.pth) pickle a few mmengine/numpy objects that torch >= 2.6 refuses under
# its default ``weights_only=True``. Allow-list exactly those (no blanket ``weights_only=False``) so
# ``--resume`` and ``load_from`` work for every config that imports mmrsfm. See README "Checkpoints".
allow_runner_checkpoints()

__all__ = ['__version__', 'check_dependencies', 'stack_versions', 'allow_runner_checkpoints']
