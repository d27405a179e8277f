"""Two metrics of the same samples compared per group, such as a score and that of its
control: :func:`paired_rows` gives both means, their paired difference and Holm-corrected
p-values over the whole result."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._checks import _check_options
from ._table import _NOT_TESTED, _as_names, _groups
from .bootstrap import bootstrap_mean
from .paired import holm, paired_difference


def _check_pairs(pairs) -> list:
    pairs = [tuple(p) for p in pairs]
    if not pairs or any(len(p) != 2 or not all(isinstance(m, str) for m in p) for p in pairs):
        raise ValueError("pairs must be a non-empty list of (metric, control metric) name pairs, "
                         f"e.g. [('masked_kept', 'masked_kept_random')]; got {pairs!r}")
    return pairs


def _pair_data(table, by: list, names: set) -> pd.DataFrame:
    """The rows of the ``names`` metrics, NaN values dropped; ValueError on anything ambiguous."""
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"table must be a pandas DataFrame; got {type(table).__name__}")
    missing = [c for c in (*by, "sample", "metric", "value") if c not in table.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing} (columns: {list(table.columns)})")
    absent = sorted(names - set(table["metric"]))
    if absent:
        raise ValueError(f"table has no metric(s) {absent}; it has "
                         f"{sorted(pd.unique(table['metric']))}")
    data = table.loc[table["metric"].isin(names), [*by, "sample", "metric", "value"]].copy()
    data["value"] = data["value"].astype(np.float64)
    if np.isinf(data["value"]).any():
        raise ValueError("table has infinite values; fix or drop those rows")
    data = data[data["value"].notna()]
    dup = data.duplicated([*by, "sample", "metric"])
    if dup.any():
        raise ValueError(f"a sample has two values of one metric in one group (cannot pair "
                         f"them); add the column that tells them apart to by:\n"
                         f"{data[dup].head()}")
    return data


_PAIR_COLUMNS = ["metric", "control", "n", "mean", "lo", "hi", "mean_control", "lo_control",
                 "hi_control", "d", "d_lo", "d_hi", "p", "p_holm", "difference"]


def paired_rows(table, pairs, by=("method",), ci=0.95, n_boot=2000, seed=0, alpha=0.05,
                test="wilcoxon", n_perm=9999):
    """Two metrics of the same samples compared per group: ``metric − control`` for each pair.

    For scores recorded side by side on each sample, such as a map's masked re-classification
    and that of a same-area control region (``masked_kept`` and ``masked_kept_random``): the
    pairs are matched on ``sample`` within each group, never on row order.

    Parameters
    ----------
    table : pandas.DataFrame
        Long table with columns ``sample``, ``metric``, ``value`` and the ``by`` columns; NaN
        values are dropped.
    pairs : sequence of (metric, control) names
    by : sequence of str
        Grouping columns (e.g. ``("setting", "method")``).
    ci, n_boot, seed
        Percentile bootstrap of each mean and of the mean paired difference
        (:func:`bootstrap_mean`, :func:`paired_difference`).
    alpha : float
        Family-wise error rate of the ``difference`` verdicts.
    test, n_perm
        Paired test, see :func:`paired_difference`.

    Returns
    -------
    pandas.DataFrame
        One row per (*by, pair), groups in order of first appearance: ``*by, metric, control,
        n`` (pairs), ``mean, lo, hi`` (the metric), ``mean_control, lo_control, hi_control``,
        ``d, d_lo, d_hi`` (mean of metric − control and its interval), ``p`` (raw), ``p_holm``
        (Holm 1979 over every test of the whole result) and ``difference``: "higher" or "lower"
        when p_holm < ``alpha`` and the interval of d excludes 0 on that side, else "within
        noise" ("not tested" for a pair with no common sample: NaN numbers, n = 0).
    """
    _check_options(ci, n_boot, test)
    by, pairs = list(_as_names(by)), _check_pairs(pairs)
    data = _pair_data(table, by, {m for p in pairs for m in p})
    boot = {"ci": ci, "n_boot": int(n_boot), "seed": seed}
    rows = []
    for keys, group in _groups(data, by):
        wide = group.pivot(index="sample", columns="metric", values="value").sort_index()
        for a, b in pairs:
            row = {**keys, **dict.fromkeys(_PAIR_COLUMNS, np.nan), "metric": a, "control": b,
                   "n": 0, "difference": _NOT_TESTED}
            both = wide[[a, b]].dropna() if a in wide and b in wide else wide.iloc[:0]
            if len(both):
                x, y = both[a].to_numpy(), both[b].to_numpy()
                r = paired_difference(x, y, test=test, n_perm=n_perm, **boot)
                row.update(zip(("mean", "lo", "hi"), bootstrap_mean(x, **boot)))
                row.update(zip(("mean_control", "lo_control", "hi_control"),
                               bootstrap_mean(y, **boot)))
                row.update(n=r["n"], d=r["mean"], d_lo=r["lo"], d_hi=r["hi"], p=r["p"])
            rows.append(row)
    out = pd.DataFrame(rows, columns=[*by, *_PAIR_COLUMNS])
    out["p_holm"] = holm(out["p"].to_numpy(np.float64))
    tested = out["n"] > 0
    significant = tested & (out["p_holm"] < alpha)
    out.loc[tested, "difference"] = "within noise"
    out.loc[significant & (out["d_lo"] > 0), "difference"] = "higher"
    out.loc[significant & (out["d_hi"] < 0), "difference"] = "lower"
    return out

