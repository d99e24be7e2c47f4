"""Model utilities shared across families: architecture tables, per-layer helpers, masking."""
