"""Statistics from a per-sample long table: intervals, paired tests against baselines, Holm.

The long table has one row per sample × method × metric, with columns ``sample`` (id),
``method``, ``metric``, ``value`` and optional grouping columns (e.g. ``setting``). Every
comparison pairs two methods on the samples both have (matched on ``sample``, never on row
order), so a costly metric computed on a subset of the samples is compared on that subset.

* :func:`bootstrap_mean` -- mean and percentile bootstrap interval (Efron & Tibshirani 1993).
* :func:`paired_difference` -- mean paired difference, its interval and a two-sided p-value:
  Wilcoxon signed-rank (Wilcoxon 1945; zeros by Pratt 1959) or a sign-flip permutation test.
* :func:`holm` -- Holm (1979) step-down adjusted p-values.
* :func:`summarise` -- all of it for a long table, one row per (*by, method, metric), with a
  verdict against each baseline; :func:`format_summary` and :data:`LEGEND` for Markdown;
  :func:`findings` counts the verdicts per metric; :func:`rank_table` orders the methods.
* :func:`paired_rows` -- two metrics of the same samples (a score and its control's), their
  means and paired difference per group, Holm over the whole result.

Submodules: :mod:`~xai.stats.bootstrap`, :mod:`~xai.stats.paired`, :mod:`~xai.stats.summary`,
:mod:`~xai.stats.metric_pairs`, :mod:`~xai.stats.presentation`, :mod:`~xai.stats.ranking`.
NumPy, SciPy and pandas only: no TensorFlow is imported.
"""
from __future__ import annotations

from .bootstrap import bootstrap_mean
from .metric_pairs import paired_rows
from .paired import holm, paired_difference
from .presentation import LEGEND, findings, format_summary
from .ranking import rank_table
from .summary import summarise

__all__ = ["bootstrap_mean", "paired_difference", "holm", "summarise", "format_summary",
           "findings", "rank_table", "paired_rows", "LEGEND"]
