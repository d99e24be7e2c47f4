"""Visualizers registered in :data:`mmrsfm.registry.VISUALIZERS`."""
