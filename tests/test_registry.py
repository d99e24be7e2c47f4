"""mmrsfm components resolve from every toolbox scope with no register_all_modules() call."""
import subprocess
import sys

import pytest

from mmrsfm import registry

SCRIPT = """
import sys
from mmengine.registry import HOOKS, DefaultScope
from mmengine.config import Config
DefaultScope.get_instance('user', scope_name=sys.argv[1])
if sys.argv[2] == 'custom_imports':
    # what a user's own mmdet/mmseg/mmrotate config does
    Config(dict(custom_imports=dict(imports=['mmrsfm'], allow_failed_imports=False)))
    from mmengine.utils import import_modules_from_strings
    import_modules_from_strings(['mmrsfm'])
else:
    import mmrsfm  # noqa
assert 'mmrsfm.engine' not in sys.modules  # nothing registered eagerly
hook = HOOKS.build(dict(type='mmrsfm.InputChannelsCheckHook'))
print(type(hook).__module__)
"""


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg', 'mmrotate', 'mmrsfm'])
@pytest.mark.parametrize('how', ['import', 'custom_imports'])
def test_type_with_scope_prefix_builds_lazily(scope, how):
    proc = subprocess.run([sys.executable, '-c', SCRIPT, scope, how], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith('mmrsfm.engine.hooks.input_channels_check_hook')


def test_registries_are_children_of_mmengine_roots():
    from mmengine import registry as root
    for name in ('MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'HOOKS', 'OPTIM_WRAPPER_CONSTRUCTORS',
                 'OPTIMIZERS', 'PARAM_SCHEDULERS', 'VISUALIZERS', 'LOOPS', 'STRATEGIES'):
        child = getattr(registry, name)
        assert child.scope == 'mmrsfm' and child.parent is getattr(root, name), name
        assert child._locations, f'{name} has no locations: it would need register_all_modules()'
