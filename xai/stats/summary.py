"""Every method of a long table against the baselines: :func:`summarise` gives, per
(*by, method, metric), the mean and its interval, the paired difference with each baseline,
Holm-corrected p-values over the group and a verdict (better, worse, within noise)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._checks import _check_options
from ._table import _NOT_TESTED, _as_names, _cells, _clean, _groups, _paired
from .bootstrap import bootstrap_mean
from .paired import holm, paired_difference


def _verdict(p_holm: float, lo: float, hi: float, higher: bool, alpha: float) -> str:
    if p_holm < alpha and lo > 0:
        return "better" if higher else "worse"
    if p_holm < alpha and hi < 0:
        return "worse" if higher else "better"
    return "within noise"


def _compare(row: dict, values: pd.Series, base: pd.Series, b: str, opts: dict) -> float:
    """Fill row's columns against baseline ``b``; return the raw p (NaN when not tested)."""
    x, y = _paired(values, base)
    row.update({f"d_{b}": np.nan, f"d_{b}_lo": np.nan, f"d_{b}_hi": np.nan, f"n_{b}": 0,
                f"p_{b}": np.nan, f"p_{b}_holm": np.nan, f"vs_{b}": _NOT_TESTED})
    if row["method"] == b or len(x) == 0:
        return np.nan
    r = paired_difference(x, y, **opts)
    row.update({f"d_{b}": r["mean"], f"d_{b}_lo": r["lo"], f"d_{b}_hi": r["hi"],
                f"n_{b}": r["n"], f"p_{b}": r["p"]})
    return r["p"]


def _summarise_group(group, keys: dict, order, higher_is_better, baselines, opts, alpha):
    cells = _cells(group)
    rows, tests = [], []  # tests: (row index, baseline) of every raw p
    for method, metric in order:
        if (method, metric) not in cells:
            continue
        values = cells[method, metric]
        mean, lo, hi = bootstrap_mean(values.to_numpy(), opts["ci"], opts["n_boot"],
                                      opts["seed"])
        row = {**keys, "method": method, "metric": metric,
               "higher_is_better": bool(higher_is_better[metric]),
               "n": len(values), "mean": mean, "lo": lo, "hi": hi}
        for b in baselines:
            base = cells.get((b, metric), pd.Series(dtype=np.float64))
            if not np.isnan(_compare(row, values, base, b, opts)):
                tests.append((len(rows), b))
        rows.append(row)
    adjusted = holm([rows[i][f"p_{b}"] for i, b in tests])
    for (i, b), p in zip(tests, adjusted):
        r = rows[i]
        r[f"p_{b}_holm"] = p
        r[f"vs_{b}"] = _verdict(p, r[f"d_{b}_lo"], r[f"d_{b}_hi"], r["higher_is_better"], alpha)
    return rows, len(tests)


def summarise(table, higher_is_better, by=("setting",), baselines=("random", "constant"),
              ci=0.95, n_boot=2000, seed=0, alpha=0.05, test="wilcoxon", n_perm=9999):
    """Per (*by, method, metric): mean, interval and paired comparisons with the baselines.

    Parameters
    ----------
    table : pandas.DataFrame
        Long table with columns ``sample``, ``method``, ``metric``, ``value`` and the ``by``
        columns. A NaN value means "not computed for this sample" and is dropped; a cell may
        hold a subset of the samples. Pairs are matched on ``sample`` (inner join), never on
        row order; pairs are sorted by sample so the result does not depend on row order.
    higher_is_better : dict[str, bool]
        Direction of every metric in the table (ValueError lists the missing ones).
    by : sequence of str
        Grouping columns; each group is summarised, and Holm-corrected, on its own.
    baselines : sequence of str
        Methods every method is compared with, per metric.
    ci, n_boot, seed
        Percentile bootstrap (Efron & Tibshirani 1993) of the mean and of the mean paired
        difference; see :func:`bootstrap_mean`.
    alpha : float
        Family-wise error rate for the verdicts.
    test, n_perm
        Paired test, see :func:`paired_difference`.

    Returns
    -------
    pandas.DataFrame
        One row per (*by, method, metric), methods then metrics in order of first appearance,
        with columns ``*by, method, metric, higher_is_better, n, mean, lo, hi`` and for each
        baseline b: ``d_<b>``, ``d_<b>_lo``, ``d_<b>_hi`` (mean difference method − b and its
        interval), ``n_<b>`` (pairs), ``p_<b>`` (raw), ``p_<b>_holm`` (Holm 1979 over all
        tests of the ``by`` group: methods × metrics × baselines) and ``vs_<b>``: "better" or
        "worse" when the adjusted p < ``alpha`` and the interval excludes 0 on that side (by
        the metric's direction), else "within noise". Comparisons not made (a baseline with
        itself, no common samples, baseline absent) have NaN numbers, ``n_<b>`` = 0 and
        ``vs_<b>`` = "not tested".
    """
    _check_options(ci, n_boot, test)
    by, baselines = list(_as_names(by)), list(_as_names(baselines))
    data = _clean(table, higher_is_better, by)
    order = [(m, k) for m in pd.unique(data["method"]) for k in pd.unique(data["metric"])]
    opts = {"ci": ci, "n_boot": int(n_boot), "seed": seed, "test": test, "n_perm": int(n_perm)}
    rows, largest = [], 0
    for keys, group in _groups(data, by):
        part, m = _summarise_group(group, keys, order, higher_is_better, baselines, opts,
                                   alpha)
        rows += part
        largest = max(largest, m)
    if test == "permutation" and largest / (opts["n_perm"] + 1) >= alpha:
        warnings.warn(f"{largest} tests with n_perm={n_perm}: the smallest Holm-adjusted "
                      f"Monte Carlo p-value is {largest}/(n_perm + 1) >= alpha, so no verdict "
                      "can be significant; raise n_perm", stacklevel=2)
    return pd.DataFrame(rows, columns=_columns(by, baselines))


def _columns(by, baselines) -> list:
    base = [f"{p}_{b}{s}" for b in baselines for p, s in
            (("d", ""), ("d", "_lo"), ("d", "_hi"), ("n", ""), ("p", ""), ("p", "_holm"),
             ("vs", ""))]
    return [*by, "method", "metric", "higher_is_better", "n", "mean", "lo", "hi", *base]

