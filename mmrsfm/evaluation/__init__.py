"""Metrics registered in :data:`mmrsfm.registry.METRICS`."""
