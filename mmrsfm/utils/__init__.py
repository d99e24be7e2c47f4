"""Helpers that do not depend on a downstream toolbox."""
