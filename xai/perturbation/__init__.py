"""Perturbation methods, which explain by scoring masked copies of the input: RISE (random
masks, :mod:`.random_masks`) and SISE (feature-map masks from several layers, fused,
:mod:`.semantic_masks`)."""
from .random_masks import rise, rise_masks
from .semantic_masks import block_layers, fuse, otsu_threshold, resolve_paths, select_channels, sise

__all__ = ["rise", "rise_masks", "sise", "block_layers", "resolve_paths", "select_channels",
           "otsu_threshold", "fuse"]
