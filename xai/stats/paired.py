"""Paired tests of two methods on the same samples and their multiple-testing correction:
:func:`paired_difference` (mean difference, its bootstrap interval and a Wilcoxon 1945 or
sign-flip permutation p-value) and :func:`holm` (Holm 1979 step-down adjusted p-values)."""
from __future__ import annotations

import warnings

import numpy as np

from ._checks import _check_options, _finite_1d, _row_chunks
from .bootstrap import bootstrap_mean

#: the sign-flip test enumerates all 2**n sign patterns up to this n
_EXACT_MAX = 15


def _wilcoxon_p(d: np.ndarray) -> float:
    from scipy import stats

    with warnings.catch_warnings():  # small-n notes from scipy; the p-value is still returned
        warnings.simplefilter("ignore")
        return float(stats.wilcoxon(d, zero_method="pratt").pvalue)


def _sign_flip_p(d: np.ndarray, n_perm: int, seed) -> float:
    """Two-sided sign-flip p-value of |Σd|: exact for n ≤ 15, else (count + 1) / (B + 1)."""
    n = len(d)
    observed = abs(d.sum()) - 1e-12 * np.abs(d).sum()  # tolerance for round-off in the sums
    if n <= _EXACT_MAX:
        bits = (np.arange(2 ** n)[:, None] >> np.arange(n)) & 1
        return float(np.mean(np.abs((1.0 - 2.0 * bits) @ d) >= observed))
    rng = np.random.default_rng(seed)
    count = sum(int(np.count_nonzero(np.abs((1.0 - 2.0 * rng.integers(0, 2, (k, n))) @ d)
                                     >= observed))
                for k in _row_chunks(n_perm, n))
    return (count + 1) / (n_perm + 1)


def paired_difference(a, b, ci=0.95, n_boot=2000, seed=0, test="wilcoxon", n_perm=9999):
    """Mean of a − b over pairs, its bootstrap interval and a two-sided p-value.

    Parameters
    ----------
    a, b : array_like, shape (n,)
        Finite scores of two methods on the same n samples, in the same order.
    ci, n_boot, seed
        As in :func:`bootstrap_mean`, applied to the differences (pairs are resampled).
    test : {"wilcoxon", "permutation"}
        ``"wilcoxon"``: Wilcoxon (1945) signed-rank test, ``scipy.stats.wilcoxon`` with
        ``zero_method="pratt"`` (Pratt 1959): zero differences stay in the ranking and the null
        distribution is conditioned on them, so ties with a baseline count as evidence of no
        difference instead of being dropped ("wilcox" would test only the non-zero pairs).
        ``"permutation"``: sign-flip permutation test of the mean difference, exact (all 2**n
        sign patterns) for n ≤ 15, otherwise ``n_perm`` seeded random flips with p =
        (count + 1) / (n_perm + 1) (Phipson & Smyth 2010).
    n_perm : int
        Random sign flips for the Monte Carlo permutation test; the smallest p it can give is
        1 / (n_perm + 1).

    Returns
    -------
    dict
        ``n`` (pairs), ``mean``, ``lo``, ``hi`` (interval of the mean difference) and ``p``.
        All-zero differences give mean 0, interval [0, 0] and p = 1.
    """
    _check_options(ci, n_boot, test)
    a, b = _finite_1d(a, "a"), _finite_1d(b, "b")
    if len(a) != len(b):
        raise ValueError(f"a and b must be paired (same length); got {len(a)} and {len(b)}")
    d = a - b
    mean, lo, hi = bootstrap_mean(d, ci, n_boot, seed)
    if not d.any():
        p = 1.0
    elif test == "wilcoxon":
        p = _wilcoxon_p(d)
    else:
        p = _sign_flip_p(d, int(n_perm), seed)
    return {"n": len(d), "mean": mean, "lo": lo, "hi": hi, "p": p}


def holm(pvalues) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values.

    The i-th smallest of m p-values becomes max_{j ≤ i} min(1, (m − j + 1) p_(j)), so the
    adjusted values keep the order of the raw ones and never exceed 1. NaN entries are passed
    through untouched and do not count in m.

    Parameters
    ----------
    pvalues : array_like
        p-values in [0, 1] (or NaN), any shape.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, float64, same shape.
    """
    p = np.array(pvalues, dtype=np.float64)
    flat = p.reshape(-1)
    ok = ~np.isnan(flat)
    if ((flat[ok] < 0) | (flat[ok] > 1)).any():
        raise ValueError("p-values must lie in [0, 1] (or be NaN for 'not tested')")
    valid = flat[ok]
    order = np.argsort(valid, kind="stable")
    scaled = (len(valid) - np.arange(len(valid))) * valid[order]
    adjusted = np.empty_like(valid)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    flat[ok] = adjusted
    return p

