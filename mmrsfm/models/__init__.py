"""Models: backbones, necks, heads, losses, pretrainers and data preprocessors."""
