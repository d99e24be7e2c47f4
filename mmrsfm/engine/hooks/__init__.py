from .cd_visualization_hook import ChangeDetectionVisualizationHook
from .input_channels_check_hook import InputChannelsCheckHook

__all__ = ['ChangeDetectionVisualizationHook', 'InputChannelsCheckHook']
