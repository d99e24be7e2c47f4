"""Datasets in the real on-disk formats of remote-sensing benchmarks, and generators for them."""
