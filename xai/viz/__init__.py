"""Drawing: colormap overlays (OpenCV), diverging attribution maps, figure grids, 1-D strips.

This package only draws what other modules computed; it never runs a model.
:mod:`xai.viz.display` turns results into displayable maps and images (:func:`display_map`,
:func:`attribution_to_map`, :func:`resize`, :func:`overlay`, the default colour maps),
:mod:`xai.viz.figures` makes matplotlib figures and :mod:`xai.viz.saving` writes figures and
images to disk. Every public name is importable from ``xai.viz`` directly.
"""
from __future__ import annotations

from .display import DIVERGING_CMAP, MAP_CMAP, attribution_to_map, display_map, overlay, resize
from .figures import (
    distributions,
    diverging,
    faithfulness_figure,
    grid,
    sanity_figure,
    signal_strip,
)
from .saving import notebook_figures, save, save_image

__all__ = ["overlay", "attribution_to_map", "display_map", "resize", "diverging", "grid",
           "signal_strip", "faithfulness_figure", "distributions", "sanity_figure", "save",
           "save_image", "notebook_figures", "DIVERGING_CMAP", "MAP_CMAP"]
