"""Distillation algorithms (a student backbone learning from a frozen teacher)."""
from .ssm_distiller import FeatureDistiller, convert_sam_image_encoder, load_teacher, ramp

__all__ = ['FeatureDistiller', 'convert_sam_image_encoder', 'load_teacher', 'ramp']
