"""The long table shared by the table statistics of :mod:`xai.stats`: its checked and
cleaned columns, its groups, its cells (one method × metric, indexed by sample) and the
pairing of two cells on the samples both have."""
from __future__ import annotations

import numpy as np
import pandas as pd

_REQUIRED = ("sample", "method", "metric", "value")
_NOT_TESTED = "not tested"


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


def _as_names(names) -> tuple:
    return (names,) if isinstance(names, str) else tuple(names)

