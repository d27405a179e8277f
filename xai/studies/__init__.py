"""The project's studies as data: which model, which samples, which methods and metrics each
evaluation setting runs (:func:`evaluation_setting`, Part 1's :func:`part1_setting`), where its
per-sample table lives, and the spot check that recomputes random committed rows
(:func:`spot_check`). Notebooks and the CI check build settings here, so both compute exactly
the same thing; :func:`part1_summary` turns Part 1's table into its paired statistics.

One module per study or concern: :mod:`~xai.studies.paths` (where things are),
:mod:`~xai.studies.photos` (the ImageNet photos and their classifier),
:mod:`~xai.studies.evaluation` (notebook 08's settings), :mod:`~xai.studies.part1` (Part 1),
:mod:`~xai.studies.mnist1d` (notebook 03), :mod:`~xai.studies.hmt` (notebook 04),
:mod:`~xai.studies.xray` and :mod:`~xai.studies.xray_figures` (notebook 05),
:mod:`~xai.studies.depth` and :mod:`~xai.studies.depth_objects` (notebook 06),
:mod:`~xai.studies.classes` (per-class accuracy of notebooks 04 and 05),
:mod:`~xai.studies.embeddings` (layer embeddings and feature maps of notebooks 03–05),
:mod:`~xai.studies.notebook` (a notebook's setup) and :mod:`~xai.studies.runs` (running
settings, :data:`BUILDERS`, the spot check). Part 2 and the
class-specific study live in :mod:`xai.study_part2` and :mod:`xai.study_class`, which register
their builders in :data:`BUILDERS` when this package is imported."""
from __future__ import annotations

from .depth import DEPTH_FRACTION, DEPTH_METHODS, DEPTH_MODELS, by_depth, depth_model, depth_setting
from .evaluation import (
    COSTLY,
    EVALUATION_SETTINGS,
    SUBSET_FRACTIONS,
    evaluation_costs,
    evaluation_setting,
    metric_options_for,
)
from .notebook import Study, explain_maps, setup
from .part1 import (
    PART1_LEGEND,
    PART1_METHODS,
    PART1_MODELS,
    PART1_PAIRS,
    PART1_THRESHOLD,
    format_part1,
    part1_setting,
    part1_summary,
)
from .paths import REPO_ROOT, assets_dir, samples_dir
from .photos import imagenet_source, photo_model
from .runs import BUILDERS, run_evaluation, run_setting, spot_check
from .xray import (
    XRAY_GROUPS,
    cover,
    cover_check,
    map_magnitude,
    region_statistics,
    xray_accuracy,
    xray_groups,
    xray_regions,
)

__all__ = ["REPO_ROOT", "COSTLY", "EVALUATION_SETTINGS", "SUBSET_FRACTIONS", "PART1_MODELS",
           "PART1_METHODS", "PART1_THRESHOLD", "PART1_PAIRS", "PART1_LEGEND", "assets_dir",
           "samples_dir", "metric_options_for", "photo_model", "imagenet_source",
           "evaluation_setting", "part1_setting", "part1_summary", "format_part1", "run_setting",
           "run_evaluation", "evaluation_costs", "spot_check", "BUILDERS", "XRAY_GROUPS",
           "xray_groups", "xray_accuracy", "xray_regions", "region_statistics", "map_magnitude",
           "cover", "cover_check", "DEPTH_METHODS", "DEPTH_MODELS", "DEPTH_FRACTION",
           "depth_model", "depth_setting", "by_depth", "Study", "setup",
           "explain_maps"]

# the studies of their own modules register their builders in BUILDERS when imported
from .. import study_class, study_part2  # noqa: E402,F401
