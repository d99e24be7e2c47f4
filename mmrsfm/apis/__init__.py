"""Run trained models on whole scenes: ``SceneInferencer`` (see ``tools/infer_scene.py``)."""
from .scene_inferencer import TASKS, SceneInferencer, SceneResult
from .scene_io import GridMismatchError

__all__ = ['SceneInferencer', 'SceneResult', 'GridMismatchError', 'TASKS']
