"""Part 1's masked re-classification: its setting (:func:`part1_setting`: architectures,
CAMs, threshold), the paired statistics of each CAM against its same-area controls
(:func:`part1_summary`) and their Markdown table (:func:`format_part1`, :data:`PART1_LEGEND`)."""
from __future__ import annotations

import numpy as np

from .photos import imagenet_source

#: Part 1: its architectures per profile, its CAMs, the CAM threshold of its masked
#: re-classification and the paired comparisons of each CAM with its same-area controls
PART1_MODELS = {"offline": ("mobilenet",), "online": ("vgg16", "inceptionv3", "xception")}
PART1_METHODS = ("gradcam", "gradcam++", "smooth_gradcam++")
PART1_THRESHOLD = 0.35
PART1_PAIRS = tuple((f"masked_{m}", f"masked_{m}_{c}") for m in ("kept", "drop")
                    for c in ("random", "centre"))
#: how to read :func:`format_part1`'s table
PART1_LEGEND = (
    f"Keep the pixels where the CAM ≥ {PART1_THRESHOLD} (the others black), classify again. "
    "Class kept: share of photos whose top-1 class survives; probability drop: that class's "
    "probability before minus after masking. Controls keep as many pixels of the same photo: "
    "a random region (seeded smooth blobs) and a centred box. Cells: mean [95 % percentile "
    "bootstrap interval over photos]; CAM − control: mean paired difference [95 % paired "
    "bootstrap interval], Wilcoxon signed-rank p Holm-corrected over every comparison of the "
    "table, and the verdict: better or worse needs p < 0.05 and an interval that excludes 0, "
    "else within noise.")



def part1_setting(name: str, profile: str = "offline", smoke: bool = False) -> dict:
    """Keyword arguments of :func:`xai.evaluation.evaluate` for Part 1's masked
    re-classification with architecture ``name`` (:data:`PART1_MODELS`; offline: MobileNet
    alpha 0.25 from the offline Keras cache) on the 1000 ImageNet photos (``smoke``: every
    125th): Grad-CAM, Grad-CAM++ and Smooth Grad-CAM++ (n = 25, seed 0) at the architecture's
    default layer, pixels kept where the CAM ≥ :data:`PART1_THRESHOLD`, the others set to a
    black pixel's preprocessed value, as the study masked to black before preprocessing."""
    from .. import models

    if profile not in PART1_MODELS:
        raise ValueError(f"profile must be one of {tuple(PART1_MODELS)}, got {profile!r}")
    if profile == "offline" and name != "mobilenet":
        raise ValueError(f"the offline profile has only 'mobilenet' (alpha 0.25), got {name!r}; "
                         f"profile='online' runs {PART1_MODELS['online']}")
    zm = models.load(name, alpha=0.25) if profile == "offline" else models.load(name)
    black = zm.preprocess(np.zeros((1, 1, 1, 3), np.uint8)).reshape(-1).tolist()  # per channel
    smooth = {"n": 25, "seed": 0}
    methods = {m: (m, {"layer": zm.default_layer, **(smooth if m == "smooth_gradcam++" else {})})
               for m in PART1_METHODS}
    return {"model": zm.model, "data": imagenet_source(zm, smoke), "methods": methods,
            "metrics": ["masked_reclassification"],
            "metric_options": {"masked_reclassification": {"threshold": PART1_THRESHOLD,
                                                           "baseline": black}},
            "subsets": {}, "exclude": [], "seed": 0,
            "recipe": {"study": "part1", "setting": name, "profile": profile,
                       "smoke": bool(smoke)}}


def part1_summary(table, methods=PART1_METHODS, ci=0.95, n_boot=2000, seed=0):
    """Part 1's statistics from its per-sample table (:func:`part1_setting`).

    Per (``setting`` when the table has it, method) and measure -- ``kept`` (the class
    survives the mask), ``drop`` (the class probability's drop) -- the CAM's mean, the random
    region's and the centred box's (same photos, same area), the paired differences CAM −
    control with intervals and Wilcoxon p Holm-corrected over the whole table
    (:func:`xai.stats.paired_rows`), and the kept area.

    Returns
    -------
    pandas.DataFrame
        Columns ``*by, measure, n, area, area_lo, area_hi, cam, cam_lo, cam_hi`` and for each
        control c in (random, centre): ``c, c_lo, c_hi, d_c, d_c_lo, d_c_hi, p_c, p_c_holm,
        vs_c`` -- "better" or "worse" than the control (kept: higher is better, drop: lower),
        or "within noise".
    """
    import pandas as pd

    from .. import stats

    by = [c for c in ("setting",) if c in table.columns] + ["method"]
    table = table[table["method"].isin(methods)]
    boot = {"ci": ci, "n_boot": int(n_boot), "seed": seed}
    pairs = stats.paired_rows(table, PART1_PAIRS, by=by, **boot)
    area = {k if isinstance(k, tuple) else (k,): stats.bootstrap_mean(g.sort_values(
        "sample")["value"].to_numpy(), **boot) for k, g in
        table[table["metric"] == "masked_area"].groupby(by, sort=False)}
    rows = {}
    for rec in pairs.to_dict("records"):
        key = tuple(rec[c] for c in by)
        measure, control = rec["metric"].split("_")[1], rec["control"].split("_")[-1]
        row = rows.setdefault((*key, measure), {
            **dict(zip(by, key)), "measure": measure, "n": rec["n"],
            **dict(zip(("area", "area_lo", "area_hi"), area.get(key, (np.nan,) * 3))),
            "cam": rec["mean"], "cam_lo": rec["lo"], "cam_hi": rec["hi"]})
        sign = 1 if measure == "kept" else -1
        verdict = {"higher": "better" if sign > 0 else "worse",
                   "lower": "worse" if sign > 0 else "better"}.get(rec["difference"],
                                                                  rec["difference"])
        row.update({control: rec["mean_control"], f"{control}_lo": rec["lo_control"],
                    f"{control}_hi": rec["hi_control"], f"d_{control}": rec["d"],
                    f"d_{control}_lo": rec["d_lo"], f"d_{control}_hi": rec["d_hi"],
                    f"p_{control}": rec["p"], f"p_{control}_holm": rec["p_holm"],
                    f"vs_{control}": verdict})
    return pd.DataFrame(list(rows.values()))


def format_part1(summary, digits: int = 3):
    """:func:`part1_summary` as a Markdown-ready table: ``mean [95 % interval]`` cells, and per
    control the paired difference, its interval, the Holm-corrected p and the verdict."""
    import pandas as pd

    def interval(row, name):
        return (f"{row[name]:.{digits}f} [{row[name + '_lo']:.{digits}f}, "
                f"{row[name + '_hi']:.{digits}f}]")

    def p_text(p):
        return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"

    by = list(summary.columns[:summary.columns.get_loc("measure")])
    names = {"kept": "class kept ↑", "drop": "probability drop ↓"}
    rows = []
    for _, r in summary.iterrows():
        rows.append({**{c: r[c] for c in by}, "measure": names.get(r["measure"], r["measure"]),
                     "n": int(r["n"]), "area kept": interval(r, "area"), "CAM": interval(r, "cam"),
                     "random region": interval(r, "random"), "centred box": interval(r, "centre"),
                     **{f"CAM − {c}": f"{interval(r, 'd_' + c)} {p_text(r[f'p_{c}_holm'])}, "
                                      f"{r['vs_' + c]}" for c in ("random", "centre")}})
    return pd.DataFrame(rows)

