"""Data transforms registered in :data:`mmrsfm.registry.TRANSFORMS`."""
