"""Drawing: colormap overlays (OpenCV), diverging attribution maps, figure grids, 1-D strips.

This package draws what other modules computed; only :func:`feature_maps_figure` runs a model
(a layer's activations, :func:`xai.representations.activations`).
:mod:`xai.viz.display` turns results into displayable maps and images (:func:`display_map`,
:func:`attribution_to_map`, :func:`resize`, :func:`overlay`, the default colour maps),
:mod:`xai.viz.figures` makes matplotlib figures (:mod:`xai.viz.sanity` the sanity check's,
:mod:`xai.viz.labels` their metric names and text colours, :mod:`xai.viz.representations`
feature maps and layer embeddings) and :mod:`xai.viz.saving` writes figures and images to
disk. Every public name is importable from ``xai.viz`` directly.
"""
from __future__ import annotations

from .display import (
    DIVERGING_CMAP,
    MAP_CMAP,
    attribution_to_map,
    colormap_stops,
    display_map,
    overlay,
    resize,
)
from .figures import (
    OVERLAY_LABEL,
    distributions,
    diverging,
    faithfulness_figure,
    grid,
    signal_strip,
)
from .labels import METRIC_LABELS, metric_label, text_colour
from .representations import embedding_figure, feature_maps_figure
from .sanity import sanity_figure
from .saving import notebook_figures, save, save_image

__all__ = ["overlay", "attribution_to_map", "display_map", "resize", "diverging", "grid",
           "signal_strip", "faithfulness_figure", "distributions", "sanity_figure", "save",
           "save_image", "notebook_figures", "DIVERGING_CMAP", "MAP_CMAP", "feature_maps_figure",
           "embedding_figure", "metric_label", "text_colour", "METRIC_LABELS",
           "colormap_stops", "OVERLAY_LABEL"]
