"""A :func:`xai.stats.summarise` result for reading: :func:`format_summary` as a Markdown
table with markers explained by :data:`LEGEND`, and :func:`findings`, the counts of verdicts
and the best method per metric that prose about the table may cite."""
from __future__ import annotations

import pandas as pd

LEGEND = (
    "Cells: mean over samples [95 % percentile bootstrap interval over samples, Efron & "
    "Tibshirani 1993]. ▲r / ▼r: better / worse than the random baseline; ▲c / ▼c: better / "
    "worse than the constant baseline; no marker: within noise. A marker needs both a two-sided "
    "paired test on the samples both methods have (Wilcoxon 1945 signed-rank, or a sign-flip "
    "permutation test) with p < 0.05 after Holm's (1979) correction over every test of the "
    "table, and a 95 % paired bootstrap interval of the difference that excludes 0. "
    "↑ / ↓ after a metric: higher / lower is better."
)


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
