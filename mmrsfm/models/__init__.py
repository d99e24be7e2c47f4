"""Models, one folder per kind: backbones (one file per family), necks, heads, losses, segmentors, pretrainers,
distillers, data preprocessors and the official-checkpoint converters."""
from .backbones import *  # noqa: F401,F403
from .converters import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .pretrainers import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
