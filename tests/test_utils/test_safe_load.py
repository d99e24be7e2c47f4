import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmrsfm  # noqa: F401  (registers the allow-list)


def _roundtrip(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def test_message_hub_state_loads_weights_only():
    hub = MessageHub.get_instance('test_safe_load')
    for i in range(5):
        hub.update_scalar('train/loss', 1.0 / (i + 1))
    hub.update_info('best_score', np.float64(0.5))
    state = {'state_dict': {'w': torch.ones(2)}, 'message_hub': hub.state_dict(),
             'meta': {'dataset_meta': {'classes': ('plane', 'ship')}, 'iter': 5}}
    loaded = _roundtrip(state)
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.current() == pytest.approx(0.2)
    assert buf.statistics('mean', 5) == pytest.approx(np.mean([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]))
    assert loaded['message_hub']['runtime_info']['best_score'] == 0.5


class _RunsCode:

    def __reduce__(self):
        import os
        return (os.system, ('echo should-not-run', ))


class _GetattrEscape:
    """Asks getattr for something other than a HistoryBuffer statistics method."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


@pytest.mark.parametrize('payload', [_RunsCode(), _GetattrEscape()])
def test_other_pickles_stay_refused(payload):
    with pytest.raises(pickle.UnpicklingError):
        _roundtrip({'x': payload})
