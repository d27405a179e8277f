"""Perturbation methods, which explain by scoring masked copies of the input: RISE (random
masks, :mod:`.random_masks`) and SISE (feature-map masks from several layers, fused,
:mod:`.feature_masks`)."""
from .feature_masks import block_layers, fuse, otsu_threshold, resolve_paths, select_channels, sise
from .random_masks import rise, rise_masks

__all__ = ["rise", "rise_masks", "sise", "block_layers", "resolve_paths", "select_channels",
           "otsu_threshold", "fuse"]
