"""The percentile bootstrap interval of a mean (Efron & Tibshirani 1993), resampled so that
methods scored on the same samples are resampled alike: :func:`bootstrap_mean`."""
from __future__ import annotations

import numpy as np

from ._checks import _check_options, _finite_1d, _row_chunks


def _boot_means(v: np.ndarray, n_boot: int, seed) -> np.ndarray:
    """Means of ``n_boot`` resamples; the indices depend only on (len(v), n_boot, seed)."""
    rng = np.random.default_rng(seed)
    n = len(v)
    # drawn row block by row block: the same stream as one (n_boot, n) draw, in less memory
    return np.concatenate([v[rng.integers(0, n, (k, n))].mean(axis=1)
                           for k in _row_chunks(n_boot, n)])


def bootstrap_mean(values, ci=0.95, n_boot=2000, seed=0):
    """Mean and percentile bootstrap interval of the mean (Efron & Tibshirani 1993, ch. 13).

    Parameters
    ----------
    values : array_like, shape (n,)
        Finite per-sample scores.
    ci : float
        Confidence level; the interval is the (1 − ci)/2 and (1 + ci)/2 quantiles of the means
        of ``n_boot`` resamples of n values drawn with replacement.
    n_boot : int
        Number of resamples.
    seed : int
        The resampled indices depend only on (n, ``n_boot``, ``seed``), so several methods
        scored on the same (sorted) samples are resampled alike. They match
        :func:`xai.metrics.bootstrap_interval` for the same arguments.

    Returns
    -------
    (mean, lo, hi) : tuple of float
        n = 1 gives (v, v, v).
    """
    _check_options(ci, n_boot)
    v = _finite_1d(values)
    lo, hi = np.quantile(_boot_means(v, int(n_boot), seed), [(1 - ci) / 2, (1 + ci) / 2])
    return float(v.mean()), float(lo), float(hi)

