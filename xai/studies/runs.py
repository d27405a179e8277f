"""Running a study's settings and re-checking committed tables: :data:`BUILDERS` (study name
-> the builder of its settings, which a manifest's recipe names), :func:`run_setting`,
:func:`run_evaluation` (every setting of notebook 08) and :func:`spot_check` (recompute random
committed rows)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .depth import depth_setting
from .evaluation import EVALUATION_SETTINGS, METHOD_GROUPS, evaluation_setting
from .part1 import part1_setting
from .paths import samples_dir


def run_setting(results, name: str, profile: str = "offline", smoke: bool = False,
                progress: bool = True, study: str = "evaluation"):
    """Evaluate one setting of ``study`` into its samples folder (finished shards are kept)
    and return its per-sample table with a ``setting`` column. Notebook 08's settings run one
    evaluation per method group (:data:`~xai.studies.evaluation.METHOD_GROUPS`), each in its
    own folder; the table lists the methods in group order, the baselines last."""
    import pandas as pd

    from ..evaluation import BASELINES, evaluate

    groups = list(METHOD_GROUPS) if study == "evaluation" else [None]
    tables = []
    for group in groups:
        folder = name if group in (None, "classic") else f"{name} {group}"
        kwargs = BUILDERS[study](name, profile, smoke, **({"group": group} if group else {}))
        if group and not kwargs["methods"]:
            continue
        tables.append(evaluate(**kwargs, out=samples_dir(results, study, folder),
                               progress=progress))
    table = pd.concat(tables, ignore_index=True)
    if len(tables) > 1:  # each method's rows keep their order
        order = [m for m in table["method"].unique() if m not in BASELINES] + list(BASELINES)
        rank = table["method"].map({m: i for i, m in enumerate(order)}).to_numpy()
        table = table.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)
    return table.assign(setting=name)


def run_evaluation(results, settings=EVALUATION_SETTINGS, profile="offline", smoke=False,
                   progress=True):
    """Every setting of notebook 08 (:func:`run_setting`), one long table with a ``setting``
    column; settings whose model or data is missing are skipped with a message."""
    import pandas as pd

    tables = []
    for name in settings:
        try:
            tables.append(run_setting(results, name, profile, smoke, progress))
        except FileNotFoundError as err:
            print(f"{name}: SKIPPED ({err})")
    return pd.concat(tables, ignore_index=True)

def spot_check(out, n_rows: int = 30, seed: int = 0, atol: float = 1e-3,
               noise_atol: float = 0.03, noise_share: float = 0.4):
    """Recompute ``n_rows`` seeded random rows of a committed per-sample table (at least one
    per method; every row when it has fewer) from scratch and compare them with the committed
    values: a row is ``ok`` within ``atol``, the precision the summaries print.

    Float noise moves some rows further, since a map's near-tied points change order and a
    ReLU's zeros follow the last bits. Measured: between TensorFlow with and without oneDNN,
    22 of 4080 depth-study rows (0.5 %) differ by more than 1e-3, the largest by 0.018 (Grad-CAM
    at MobileNet's first layer); recomputing Part 2's rows on fewer photos than the committed
    batch, on the same CPU, moves 18 of 120 rows (15 %, all of maps that involve IG) by up to
    0.005, the CAMs' not at all. So up to ``noise_share`` of the checked rows may differ by up to
    ``noise_atol`` (``float_noise`` True; at 15 %, 13 or more of 30 have probability 2e-4). A
    value off by more than ``noise_atol``, or a change that moves most rows, fails; a change
    that moves a few rows by less than ``noise_atol`` can pass (and an edited value whose
    checksum was not rewritten fails :func:`xai.evaluation.load_table` whatever its size).

    Returns a DataFrame of the checked rows with ``committed``, ``recomputed``, ``float_noise``
    and ``ok`` (NaN = not computed for that sample, which a recomputation must reproduce)."""
    import pandas as pd

    from ..evaluation import load_table

    out = Path(out)
    settings = json.loads((out / "manifest.json").read_text())["settings"]
    recipe = settings["recipe"]
    extra = {k: v for k, v in recipe.items() if k not in ("study", "setting", "profile", "smoke")}
    setting = BUILDERS[recipe["study"]](recipe["setting"], recipe["profile"], recipe["smoke"],
                                        **extra)
    table = load_table(out)
    rng = np.random.default_rng(seed)
    first = table.groupby("method", sort=False).sample(1, random_state=rng)
    rest = table.drop(first.index)
    picked = pd.concat([first, rest.sample(min(len(rest), max(0, n_rows - len(first))),
                                           random_state=rng)])
    checked = []
    for method, rows in picked.groupby("method", sort=False):
        merged = rows.merge(_recompute(setting, rows, settings["shard_size"]),
                            on=["sample", "method", "metric"],
                            how="left", suffixes=("", "_new"))
        checked.append(merged.rename(columns={"value": "committed", "value_new": "recomputed"}))
    result = pd.concat(checked, ignore_index=True)
    diff = (result["committed"] - result["recomputed"]).abs()
    exact = (diff <= atol) | (result["committed"].isna() & result["recomputed"].isna())
    noisy = ~exact & (diff <= noise_atol)
    result["float_noise"] = noisy & (noisy.cumsum() <= int(noise_share * len(result)))
    result["ok"] = exact | result["float_noise"]
    return result[["sample", "method", "metric", "committed", "recomputed", "float_noise",
                   "ok"]]


#: methods whose maps follow the float noise of the batch they ran in (Opti-CAM's 100 Adam
#: steps and best-iterate choice amplify it: one photo alone moved Average Drop by 0.1), so a
#: spot check recomputes them on the whole shards that hold the checked rows: the same batches
BATCH_SENSITIVE = ("opticam",)


def _recompute(setting: dict, rows, shard_size: int):
    """:func:`xai.evaluation.evaluate` of ``setting`` on the samples, method and metrics of
    ``rows`` (one method's rows; a :data:`BATCH_SENSITIVE` method's on their whole shards)."""
    from ..evaluation import METRICS, evaluate

    method = rows["method"].iloc[0]
    methods = {method: setting["methods"][method]} if method in setting["methods"] else {}
    samples = rows["sample"].astype(str).unique()
    if method in BATCH_SENSITIVE:
        ids = list(setting["data"].ids)
        shards = {ids.index(s) // shard_size for s in samples}
        samples = [i for k, i in enumerate(ids) if k // shard_size in shards]
    kwargs = dict(setting, data=setting["data"].subset(samples), methods=methods,
                  shard_size=shard_size)
    kwargs["metrics"] = [m for m in setting["metrics"]
                         if set(METRICS[m].higher) & set(rows["metric"])]
    kwargs["subsets"] = {k: v for k, v in setting["subsets"].items()
                         if k in methods or k in kwargs["metrics"]}
    kwargs.pop("recipe")
    return evaluate(**kwargs, progress=False)


#: study name -> f(setting, profile, smoke) giving :func:`xai.evaluation.evaluate`'s arguments;
#: a manifest's ``recipe`` names one, so :func:`spot_check` can rebuild any committed table
BUILDERS = {"evaluation": evaluation_setting, "part1": part1_setting}
#: a manifest's recipe {"study": "depth", ...} is rebuilt by :func:`depth_setting`
BUILDERS["depth"] = depth_setting
