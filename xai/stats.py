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

NumPy, SciPy and pandas only: no TensorFlow is imported.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd

__all__ = ["bootstrap_mean", "paired_difference", "holm", "summarise", "format_summary",
           "findings", "rank_table", "paired_rows", "LEGEND"]

#: resampled entries drawn at once (bounds memory: n_boot × n is drawn in row chunks)
_CHUNK = 1 << 22
#: the sign-flip test enumerates all 2**n sign patterns up to this n
_EXACT_MAX = 15
_TESTS = ("wilcoxon", "permutation")
_REQUIRED = ("sample", "method", "metric", "value")
_NOT_TESTED = "not tested"

LEGEND = (
    "Cells: mean over samples [95 % percentile bootstrap interval over samples, Efron & "
    "Tibshirani 1993]. ▲r / ▼r: better / worse than the random baseline; ▲c / ▼c: better / "
    "worse than the constant baseline; no marker: within noise. A marker needs both a two-sided "
    "paired test on the samples both methods have (Wilcoxon 1945 signed-rank, or a sign-flip "
    "permutation test) with p < 0.05 after Holm's (1979) correction over every test of the "
    "table, and a 95 % paired bootstrap interval of the difference that excludes 0. "
    "↑ / ↓ after a metric: higher / lower is better."
)


# --------------------------------------------------------------------------------------------
# validation and resampling
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# paired tests
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# the long table
# --------------------------------------------------------------------------------------------


def _clean(table, higher_is_better: dict, by: list) -> pd.DataFrame:
    """The table's needed columns, NaN values dropped; ValueError on anything ambiguous."""
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"table must be a pandas DataFrame; got {type(table).__name__}")
    missing = [c for c in (*by, *_REQUIRED) if c not in table.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing} (columns: {list(table.columns)}); "
                         "pass by=() for a table without grouping columns")
    unknown = [m for m in pd.unique(table["metric"]) if m not in higher_is_better]
    if unknown:
        raise ValueError(f"higher_is_better has no direction for metric(s) {unknown}; add "
                         "them, e.g. {'deletion_auc': False, 'insertion_auc': True}")
    data = table[[*by, *_REQUIRED]].copy()
    data["value"] = data["value"].astype(np.float64)
    if np.isinf(data["value"]).any():
        raise ValueError("table has infinite values; fix or drop those rows")
    data = data[data["value"].notna()]  # NaN: not computed for that sample
    dup = data.duplicated([*by, "method", "metric", "sample"])
    if dup.any():
        raise ValueError(f"samples scored twice for one method and metric (cannot pair them):\n"
                         f"{data[dup].head()}")
    return data


def _groups(data: pd.DataFrame, by: list):
    """(dict of the by values, rows) per group, in order of first appearance."""
    if not by:
        yield {}, data
        return
    for key, group in data.groupby(by, sort=False, dropna=False):
        yield dict(zip(by, key if isinstance(key, tuple) else (key,))), group


def _cells(group: pd.DataFrame) -> dict:
    """{(method, metric): values as a Series indexed by sample, sorted by sample}."""
    return {key: cell.set_index("sample")["value"].sort_index()
            for key, cell in group.groupby(["method", "metric"], sort=False)}


def _paired(a: pd.Series, b: pd.Series):
    """Values of two cells on the samples both have (inner join on sample), sorted by sample."""
    common = a.index.intersection(b.index).sort_values()
    return a.loc[common].to_numpy(), b.loc[common].to_numpy()


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


def _as_names(names) -> tuple:
    return (names,) if isinstance(names, str) else tuple(names)


def _columns(by, baselines) -> list:
    base = [f"{p}_{b}{s}" for b in baselines for p, s in
            (("d", ""), ("d", "_lo"), ("d", "_hi"), ("n", ""), ("p", ""), ("p", "_holm"),
             ("vs", ""))]
    return [*by, "method", "metric", "higher_is_better", "n", "mean", "lo", "hi", *base]


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


# --------------------------------------------------------------------------------------------
# presentation
# --------------------------------------------------------------------------------------------


def _summary_layout(summary: pd.DataFrame):
    """(by columns, baselines) of a :func:`summarise` result."""
    by = list(summary.columns[:summary.columns.get_loc("method")])
    baselines = [c[3:] for c in summary.columns if c.startswith("vs_")]
    return by, baselines


def _tags(baselines) -> dict:
    """Marker suffix per baseline: its first letter, or its name when first letters clash."""
    firsts = [b[:1] for b in baselines]
    return {b: b[:1] if firsts.count(b[:1]) == 1 else b for b in baselines}


def _cell(rec: dict, baselines, tags, digits: int) -> str:
    text = f"{rec['mean']:.{digits}f} [{rec['lo']:.{digits}f}, {rec['hi']:.{digits}f}]"
    arrows = {"better": "▲", "worse": "▼"}
    marks = [arrows[rec[f"vs_{b}"]] + tags[b] for b in baselines if rec[f"vs_{b}"] in arrows]
    return " ".join([text, *marks])


def format_summary(summary: pd.DataFrame, digits=3) -> pd.DataFrame:
    """A :func:`summarise` result as a table for Markdown (see :data:`LEGEND`).

    One row per (*by, method); one column per metric, headed by its name and ↑ (higher is
    better) or ↓, with cells like ``0.412 [0.398, 0.425] ▲r`` -- mean, interval and a marker
    per baseline the method is significantly better (▲) or worse (▼) than, tagged by the
    baseline's first letter (r: random, c: constant). Empty where a metric was not computed.
    """
    by, baselines = _summary_layout(summary)
    tags = _tags(baselines)
    table: dict = {}
    headers: dict = {}
    for rec in summary.to_dict("records"):
        header = f"{rec['metric']} {'↑' if rec['higher_is_better'] else '↓'}"
        headers.setdefault(header, None)
        row = table.setdefault(tuple(rec[c] for c in (*by, "method")), {})
        row[header] = _cell(rec, baselines, tags, digits)
    return pd.DataFrame([[*key, *(row.get(h, "") for h in headers)]
                         for key, row in table.items()], columns=[*by, "method", *headers])


def findings(summary: pd.DataFrame, metrics=None) -> pd.DataFrame:
    """Per (*by, metric) of a :func:`summarise` result: how many methods (baselines left out)
    are better than, within noise of or worse than each baseline, the best method by its mean
    (with its interval) and each baseline's mean -- what prose about the table may cite.
    ``metrics``: the metrics to keep (default: all)."""
    by, baselines = _summary_layout(summary)
    rows = []
    for key, t in summary.groupby([*by, "metric"], sort=False):
        keys = dict(zip([*by, "metric"], key))
        if metrics is not None and keys["metric"] not in metrics:
            continue
        real = t[~t["method"].isin(baselines)]
        best = real.loc[real["mean"].idxmax() if t["higher_is_better"].iloc[0]
                        else real["mean"].idxmin()]
        row = {**keys, "methods": len(real)}
        for b in baselines:
            counts = real[f"vs_{b}"].value_counts()
            row[f"better / noise / worse than {b}"] = "{} / {} / {}".format(
                *(int(counts.get(v, 0)) for v in ("better", "within noise", "worse")))
        row["best"] = best["method"]
        row["best mean [95 % CI]"] = f"{best['mean']:.3f} [{best['lo']:.3f}, {best['hi']:.3f}]"
        for b in baselines:
            v = t.loc[t["method"] == b, "mean"]
            row[b] = f"{v.iloc[0]:.3f}" if len(v) else "not measured"
        rows.append(row)
    return pd.DataFrame(rows)


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
