import pytest

from mmrsfm.utils import dependencies
from mmrsfm.utils.dependencies import DependencyError, check_dependencies, stack_versions


def test_installed_stack_passes_and_is_reported():
    check_dependencies()
    versions = stack_versions()
    for module in ('torch', 'mmengine', 'mmcv', 'mmdet', 'mmseg', 'mmrotate'):
        assert versions[module], f'{module} missing from {versions}'


def _fake_installed(monkeypatch, overrides):
    real = dependencies._installed
    monkeypatch.setattr(dependencies, '_installed',
                        lambda m: overrides[m] if m in overrides else real(m))


def test_too_new_mmcv_names_the_fix(monkeypatch):
    _fake_installed(monkeypatch, {'mmcv': ('mmcv', '2.5.0')})
    with pytest.raises(DependencyError) as err:
        check_dependencies()
    msg = str(err.value)
    assert 'mmcv==2.5.0 is installed but mmrsfm needs mmcv>=2.1.0,<2.4.0' in msg
    assert 'pip uninstall -y mmcv' in msg and 'onedl-mmcv==2.3.6' in msg and 'mmcv==2.1.0' in msg


def test_missing_required_and_optional(monkeypatch):
    _fake_installed(monkeypatch, {'mmengine': None, 'mmrotate': None})
    with pytest.raises(DependencyError) as err:
        check_dependencies()
    msg = str(err.value)
    assert 'mmengine is not installed' in msg and 'onedl-mmengine==0.10.12' in msg
    assert 'mmrotate' not in msg  # optional: only checked when installed


def test_lite_mmcv_is_rejected(monkeypatch):
    _fake_installed(monkeypatch, {'mmcv': ('mmcv-lite', '2.1.0')})
    with pytest.raises(DependencyError, match=r'mmcv-lite==2.1.0 has no compiled ops'):
        check_dependencies()


def test_old_mmrotate_prerelease_window(monkeypatch):
    _fake_installed(monkeypatch, {'mmrotate': ('mmrotate', '0.3.4')})
    with pytest.raises(DependencyError, match=r'mmrotate==0.3.4 is installed but mmrsfm needs '
                                              r'mmrotate>=1.0.0rc1,<1.3.0'):
        check_dependencies()
    _fake_installed(monkeypatch, {'mmrotate': ('mmrotate', '1.0.0rc1')})
    check_dependencies()
