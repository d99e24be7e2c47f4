"""Models: backbones, necks, heads, losses, pretrainers and data preprocessors."""
from .backbones import *  # noqa: F401,F403
from .pretrainers import *  # noqa: F401,F403
