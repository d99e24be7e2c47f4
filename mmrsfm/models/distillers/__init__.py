"""Distillation algorithms (a student backbone learning from a frozen teacher)."""
from .feature_distiller import FeatureDistiller, load_teacher, ramp

__all__ = ['FeatureDistiller', 'load_teacher', 'ramp']
