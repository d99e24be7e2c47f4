"""mmrsfm registries: children of mmengine's roots.

Each registry names the modules that define its members (``locations``), so building
``type='mmrsfm.Xxx'`` from any scope (mmdet, mmseg, mmrotate or mmrsfm) imports them on demand —
no ``register_all_modules()`` call is needed. Children of mmengine's roots (not of mmdet's or
mmseg's) keep mmrsfm importable with whichever downstream toolboxes are installed; configs reach
toolbox components with their scope prefix (``type='mmdet.FCOS'``, ``'mmrotate::_base_/...'``).
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

_ENGINE = ['mmrsfm.engine']

# Runners, loops, hooks and strategies (FSDP/DeepSpeed come from mmengine itself).
RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, locations=_ENGINE)
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor', parent=MMENGINE_RUNNER_CONSTRUCTORS, locations=_ENGINE)
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=_ENGINE)
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=_ENGINE)
STRATEGIES = Registry('strategy', parent=MMENGINE_STRATEGIES, locations=_ENGINE)
LOG_PROCESSORS = Registry('log processor', parent=MMENGINE_LOG_PROCESSORS, locations=_ENGINE)

# Data: datasets, samplers and transforms (multispectral loading, bi-temporal pairs, ...).
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['mmrsfm.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['mmrsfm.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=['mmrsfm.datasets.transforms'])

# Models: backbones, necks, heads, losses, pretrainers, data preprocessors.
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['mmrsfm.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=_ENGINE)
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS, locations=['mmrsfm.models'])
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS, locations=['mmrsfm.models', 'mmrsfm.evaluation'])

# Optimisation (e.g. layer-wise lr decay for any model whose backbone has get_layer_depth).
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, locations=_ENGINE)
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=_ENGINE)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, locations=_ENGINE)
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, locations=_ENGINE)

# Evaluation (change-detection metrics, ...).
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['mmrsfm.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR, locations=['mmrsfm.evaluation'])

# Visualisation and inference.
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS, locations=['mmrsfm.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS, locations=['mmrsfm.visualization'])
INFERENCERS = Registry('inferencer', parent=MMENGINE_INFERENCERS)
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, locations=['mmrsfm.datasets', 'mmrsfm.engine'])
