"""Argument checks and memory-bounded resampling shared by the statistics of
:mod:`xai.stats`: the confidence level, resample count and test name, finite 1-D scores,
and the row blocks in which a (resamples × samples) draw is made."""
from __future__ import annotations

import numpy as np

#: resampled entries drawn at once (bounds memory: n_boot × n is drawn in row chunks)
_CHUNK = 1 << 22
_TESTS = ("wilcoxon", "permutation")


def _check_options(ci, n_boot, test="wilcoxon"):
    if isinstance(ci, bool) or not isinstance(ci, (float, np.floating)) or not 0 < ci < 1:
        raise ValueError(f"ci must be a confidence level in (0, 1), e.g. 0.95; got {ci!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer (e.g. 2000); got {n_boot!r}")
    if test not in _TESTS:
        raise ValueError(f"test must be one of {_TESTS}; got {test!r}")


def _finite_1d(values, name="values") -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or len(v) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence; got shape {v.shape}")
    if not np.isfinite(v).all():
        bad = np.flatnonzero(~np.isfinite(v))[:5].tolist()
        raise ValueError(f"{name} must be finite; non-finite at positions {bad} (drop them)")
    return v


def _row_chunks(rows: int, width: int):
    """Sizes of consecutive row blocks of a (rows, width) draw, each about _CHUNK entries."""
    step = max(1, _CHUNK // width)
    for start in range(0, rows, step):
        yield min(step, rows - start)

