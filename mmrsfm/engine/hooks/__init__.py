from .input_channels_check_hook import InputChannelsCheckHook

__all__ = ['InputChannelsCheckHook']
