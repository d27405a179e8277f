"""Methods ordered per metric by paired bootstrap intervals, ties where the intervals cannot
part them: :func:`rank_table`, an ordering aid without multiplicity correction."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ._checks import _check_options
from ._table import _as_names, _cells, _clean, _groups, _paired
from .bootstrap import bootstrap_mean


def rank_table(table, higher_is_better, by=("setting",), ci=0.95, n_boot=2000, seed=0,
               margin=0.0):
    """Methods per (*by, metric), best first; ties where the paired intervals cannot part them.

    Every two methods are compared on the samples both have: the percentile bootstrap interval
    (Efron & Tibshirani 1993) of their mean paired difference. A method's rank is 1 + the
    number of methods whose interval against it lies wholly on the better side of ``margin``
    (competition ranking); ``tied`` marks methods that share their rank. An ordering aid with
    no multiplicity correction: claims about a method rest on :func:`summarise`'s
    Holm-corrected verdicts.

    Parameters
    ----------
    table, higher_is_better, by, ci, n_boot, seed
        As in :func:`summarise`.
    margin : float
        Smallest difference that separates two methods (≥ 0): the interval must lie wholly
        above ``margin`` (or below −``margin``). With 0, two maps equal up to round-off (a
        difference of 1e-5 on 4 of 241 samples, 0 elsewhere) are "separated", as over 2.5 % of
        the resamples miss those 4 samples; half the printed precision (5e-4 for three
        decimals) calls such a difference the tie it is.

    Returns
    -------
    pandas.DataFrame
        Columns ``*by, metric, rank, method, n, mean, tied``, per group and metric ordered by
        rank, then by mean (best first).
    """
    _check_options(ci, n_boot)
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.number)) \
            or not margin >= 0:
        raise ValueError(f"margin must be a difference >= 0 (e.g. 5e-4); got {margin!r}")
    by = list(_as_names(by))
    data = _clean(table, higher_is_better, by)
    methods, metrics = pd.unique(data["method"]), pd.unique(data["metric"])
    boot = {"ci": ci, "n_boot": int(n_boot), "seed": seed}
    parts = []
    for keys, group in _groups(data, by):
        cells = _cells(group)
        for metric in metrics:
            named = {m: cells[m, metric] for m in methods if (m, metric) in cells}
            if not named:
                continue
            sign = 1.0 if higher_is_better[metric] else -1.0
            ranked = _rank_metric(named, sign, boot, float(margin))
            parts.append(ranked.assign(**keys, metric=metric))
    cols = [*by, "metric", "rank", "method", "n", "mean", "tied"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def _rank_metric(named: dict, sign: float, boot: dict, margin: float) -> pd.DataFrame:
    """Competition ranks of the methods of one metric (values oriented so higher is better)."""
    names = list(named)
    above = np.zeros((len(names), len(names)), bool)  # above[i, j]: i clearly better than j
    for i, j in itertools.combinations(range(len(names)), 2):
        a, b = _paired(named[names[i]], named[names[j]])
        if len(a):
            _, lo, hi = bootstrap_mean(sign * (a - b), **boot)
            above[i, j], above[j, i] = lo > margin, hi < -margin
    out = pd.DataFrame({"rank": 1 + above.sum(axis=0), "method": names,
                        "n": [len(named[m]) for m in names],
                        "mean": [named[m].mean() for m in names]})
    out = out.iloc[np.lexsort((-sign * out["mean"].to_numpy(), out["rank"].to_numpy()))]
    return out.assign(tied=out["rank"].duplicated(keep=False)).reset_index(drop=True)
