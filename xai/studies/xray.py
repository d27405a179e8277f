"""The chest X-ray study (notebook 05): the X-rays and the model (:func:`ready`, :func:`load`),
outcome groups, accuracy, the most confident X-rays of each group with their maps
(:func:`group_figures`), the feature maps of each conv block (:func:`feature_map_figures`),
regions, where the maps of each group point
(:func:`region_statistics`, :func:`region_figure`), how strong they are (:func:`map_magnitude`,
:func:`magnitude_figure`), and what covering a region does to the decisions (:func:`cover`,
:func:`cover_check`)."""
from __future__ import annotations

import numpy as np

from .classes import class_accuracy

# the study's figures, reached as xai.studies.xray.<name> by notebook 05
from .xray_figures import (  # noqa: F401
    feature_map_figures,
    group_figures,
    magnitude_figure,
    region_figure,
)

#: outcome groups of the pneumonia classifier (1 = pneumonia), in the order of 05's tables
XRAY_GROUPS = ("true positive", "false positive", "true negative", "false negative")
_ABBREVIATION = {"true positive": "TP", "false positive": "FP", "true negative": "TN",
                 "false negative": "FN"}


def xray_groups(y, pred) -> np.ndarray:
    """Outcome group (:data:`XRAY_GROUPS`) of each X-ray from its true class ``y`` and the
    prediction ``pred`` (0 = normal, 1 = pneumonia)."""
    y, pred = np.asarray(y), np.asarray(pred)
    if y.shape != pred.shape or not np.isin(np.r_[y, pred], (0, 1)).all():
        raise ValueError(f"y {y.shape} and pred {pred.shape} must be 0/1 arrays of one shape "
                         "(0 = normal, 1 = pneumonia; threshold the probabilities first)")
    return np.select([(y == 1) & (pred == 1), (y == 0) & (pred == 1), (y == 0) & (pred == 0)],
                     XRAY_GROUPS[:3], XRAY_GROUPS[3])


def xray_accuracy(y, pred, classes=("NORMAL", "PNEUMONIA")):
    """Per-class recall with the overall accuracy as last row, and the confusion matrix
    (rows: true class, columns: predicted class, every class shown): ``(recall, confusion)``
    (:func:`xai.studies.classes.class_accuracy`)."""
    return class_accuracy(y, pred, classes, unit="images", measure="recall",
                          overall="all (accuracy)")


def xray_regions(size, border: float = 0.1, corner: float = 0.2) -> dict:
    """The three regions of notebook 05 as (H, W) boolean masks: ``border band`` (the outer
    ``border`` fraction of each side), ``corners`` (four squares of ``corner`` of the height)
    and ``centre`` (the middle half of each side)."""
    from .. import metrics

    h, w = size
    c = int(round(corner * h))
    return {"border band": metrics.border_mask(size, border),
            "corners": metrics.box_mask(size, [(0, 0, c, c), (w - c, 0, w, c), (0, h - c, c, h),
                                               (w - c, h - c, w, h)]),
            "centre": metrics.box_mask(size, [(w // 4, h // 4, 3 * w // 4, 3 * h // 4)])}


def _flat(maps: np.ndarray) -> np.ndarray:
    flat = maps.reshape(len(maps), -1)
    return flat.max(axis=1) == flat.min(axis=1)


def _region_rows(key, maps, group, regions, compare):
    """Rows of :func:`region_statistics` for one (layer, method); the maps that are not flat."""
    from scipy.stats import fisher_exact, mannwhitneyu

    from .. import metrics

    rows = []
    for region, mask in regions.items():
        share = metrics.energy_share(maps, mask)
        peak, flat = metrics.pointing_game(maps, mask, tolerance=0, return_flat=True)
        a, b = ((group == g) & ~flat for g in compare)
        tests = {"mass share": mannwhitneyu(share[a], share[b]).pvalue
                 if a.any() and b.any() else np.nan,
                 "peak inside": fisher_exact([[peak[a].sum(), (~peak[a]).sum()],
                                              [peak[b].sum(), (~peak[b]).sum()]]).pvalue
                 if a.any() and b.any() else np.nan}
        for measure, v in (("mass share", share), ("peak inside", peak)):
            rows.append({"layer": key[0], "method": key[1], "region": region,
                         "measure": measure, "area": float(mask.mean()),
                         **{g: float(v[(group == g) & ~flat].mean())
                            if ((group == g) & ~flat).any() else np.nan for g in XRAY_GROUPS},
                         "p": float(tests[measure])})
    return rows


def region_statistics(maps: dict, group, regions: dict,
                      compare=("false positive", "true negative")):
    """Where the maps of each outcome group put their mass and their peak, and whether two
    groups differ, with Holm's correction over every test of the table.

    Per (layer, method) of ``maps``, region and group: the mean **mass share** (Σ of the map in
    the region / Σ over the map; Wang et al. 2020, Score-CAM, sec. 5.2, via
    :func:`xai.metrics.energy_share`) and the share of maps whose **peak** lies inside
    (:func:`xai.metrics.pointing_game` with no tolerance; Zhang et al. 2018). Both are taken
    over the maps that are not flat: a flat map (max == min, e.g. all zeros) has no mass to
    share and no peak (count them with :func:`map_magnitude`). A uniform map, or a peak at a
    random place, scores the region's ``area``.

    The groups ``compare`` are tested per row, two-sided: Mann–Whitney U (mass share) or
    Fisher's exact test (peak inside); ``p (Holm)`` adjusts the raw ``p`` over all rows (Holm
    1979, :func:`xai.stats.holm`). Both measures are scale-free, so scaled and unscaled maps
    give the same table.

    Parameters
    ----------
    maps : dict
        ``{(layer, method): (N, H, W) maps ≥ 0}``, one map per X-ray.
    group : array of str, (N,)
        Each X-ray's outcome group (:func:`xray_groups`).
    regions : dict
        ``{name: (H, W) bool mask}`` (:func:`xray_regions`).
    compare : two groups of :data:`XRAY_GROUPS`

    Returns
    -------
    pandas.DataFrame
        Columns layer, method, region, measure, area, one per group of :data:`XRAY_GROUPS`
        (NaN for a group without non-flat maps), ``<A> vs <B> p`` and ``<A> vs <B> p (Holm)``.
    """
    import pandas as pd

    from ..stats import holm

    group = np.asarray(group)
    unknown = set(compare) - set(XRAY_GROUPS)
    if len(compare) != 2 or unknown:
        raise ValueError(f"compare must be two of {XRAY_GROUPS}; got {compare!r}")
    rows = []
    for key, m in maps.items():
        if len(m) != len(group):
            raise ValueError(f"maps {key} hold {len(m)} maps for {len(group)} X-rays: give "
                             "one map per entry of group")
        rows += _region_rows(key, np.asarray(m), group, regions, compare)
    table = pd.DataFrame(rows)
    name = " vs ".join(_ABBREVIATION[g] for g in compare)
    table[f"{name} p (Holm)"] = holm(table["p"].to_numpy())
    return table.rename(columns={"p": f"{name} p"})


def map_magnitude(maps: dict, group, ci: float = 0.95, n_boot: int = 2000, seed: int = 0):
    """How strong the unscaled maps are, per (layer, method) and outcome group.

    CAMs are usually scaled to [0, 1] per map, which shows where a map is high but not how
    high; pass maps made with ``normalize=False``. Per group: the number of maps, how many are
    flat (max == min) and how many of those are empty (all zero), and the mean over maps of
    each map's maximum and of its mean value, with percentile bootstrap intervals
    (:func:`xai.stats.bootstrap_mean`; NaN for an empty group).

    Returns a long pandas.DataFrame: layer, method, group, maps, flat, empty, max, max lo,
    max hi, mean, mean lo, mean hi.
    """
    import pandas as pd

    from ..stats import bootstrap_mean

    group = np.asarray(group)
    rows = []
    for (layer, method), m in maps.items():
        m = np.asarray(m)
        if len(m) != len(group):
            raise ValueError(f"maps {(layer, method)} hold {len(m)} maps for {len(group)} "
                             "X-rays: give one map per entry of group")
        flat, per_map = _flat(m), m.reshape(len(m), -1)
        stats = {"max": per_map.max(axis=1), "mean": per_map.mean(axis=1)}
        for g in XRAY_GROUPS:
            pick = group == g
            row = {"layer": layer, "method": method, "group": g, "maps": int(pick.sum()),
                   "flat": int(flat[pick].sum()),
                   "empty": int((flat & (stats["max"] == 0))[pick].sum())}
            for name, v in stats.items():
                mean, lo, hi = (bootstrap_mean(v[pick], ci, n_boot, seed) if pick.any()
                                else (np.nan,) * 3)
                row.update({name: mean, f"{name} lo": lo, f"{name} hi": hi})
            rows.append(row)
    return pd.DataFrame(rows)


def cover(x, region) -> np.ndarray:
    """Images ``x`` (N, H, W, C) with ``region`` ((H, W) bool) set to each image's own mean."""
    x = np.asarray(x)
    return np.where(np.asarray(region)[None, :, :, None], x.mean(axis=(1, 2, 3), keepdims=True),
                    x)


def cover_check(y, p, p_covered, threshold: float = 0.5,
                covered: str = "border band covered"):
    """What covering a region did to the decisions: a row ``as is`` and a row ``covered`` with
    the number of images, accuracy, recall per class, false positives and negatives, the mean
    P(pneumonia), and how many predictions changed against the uncovered ones (``changed``)
    and which way (``to pneumonia``, ``to normal``). ``p`` and ``p_covered`` are P(pneumonia)
    of the same X-rays, ``y`` their true classes (1 = pneumonia)."""
    import pandas as pd

    y, p, p_covered = np.asarray(y), np.asarray(p), np.asarray(p_covered)
    if not y.shape == p.shape == p_covered.shape:
        raise ValueError(f"y {y.shape}, p {p.shape} and p_covered {p_covered.shape} must have "
                         "one entry per X-ray")
    before = (p > threshold).astype(int)
    rows = []
    for name, prob in (("as is", p), (covered, p_covered)):
        pred = (prob > threshold).astype(int)
        rows.append({"input": name, "images": len(y), "accuracy": float((pred == y).mean()),
                     "normal recall": float((pred[y == 0] == 0).mean()),
                     "pneumonia recall": float((pred[y == 1] == 1).mean()),
                     "false positives": int(((pred == 1) & (y == 0)).sum()),
                     "false negatives": int(((pred == 0) & (y == 1)).sum()),
                     "mean P(pneumonia)": float(prob.mean()),
                     "changed": int((pred != before).sum()),
                     "to pneumonia": int(((pred == 1) & (before == 0)).sum()),
                     "to normal": int(((pred == 0) & (before == 1)).sum())})
    return pd.DataFrame(rows)


def ready(data, model_file, train=None) -> bool:
    """Whether the X-ray folder ``data`` and a model (the file, or a training folder ``train``)
    are there; says what is missing and how to get it."""
    ok = data.is_dir() and (model_file.is_file() or train is not None)
    if not data.is_dir():
        print(f"SKIPPED: no chest X-rays at {data}. Set data_path to a folder with NORMAL/ and "
              "PNEUMONIA/ (e.g. the Kermany chest_xray/test); the rest of the notebook does "
              "nothing.")
    elif not ok:
        print(f"SKIPPED: no model at {model_file}. Set model_path to a saved binary CNN, or "
              "train_path to a Kermany training folder; the rest of the notebook does nothing.")
    return ok


def load(data, model_file, train=None, per_class=None, epochs: int = 10, seed: int = 0,
         progress: bool = True, out=None):
    """The X-rays of ``data`` at 150 × 150 (:func:`xai.data.load_xray`), the model (loaded from
    ``model_file``, or trained on the folder ``train`` with :func:`xai.train.train_xray` and
    saved to ``<out>/xray_cnn.keras``) and its P(pneumonia): ``(x, y, names, model, p)``."""
    import keras

    from ..data import load_xray
    from ..train import train_xray

    x, y, names = load_xray(data, size=150, max_per_class=per_class)
    if train is not None:
        model = train_xray(train, epochs=epochs, seed=seed, verbose=int(progress),
                           save_to=out / "xray_cnn.keras")
    else:
        model = keras.models.load_model(model_file, compile=False)
    p = model.predict(x, batch_size=64, verbose=0)[:, 0]  # P(pneumonia)
    print(f"{len(x)} X-rays {x.shape[1:]} ({(y == 0).sum()} normal, {(y == 1).sum()} pneumonia); "
          f"model: {'trained here' if train is not None else model_file.name}, "
          f"{model.count_params():,} parameters")
    return x, y, names, model, p


def saturation(p, pred) -> str:
    """How saturated the sigmoid is on the X-rays called pneumonia: their number, the share
    with p > 0.99 and the median of p(1 − p) = dp/dz, as one line."""
    called = p[pred == 1]
    return (f"predicted pneumonia: {len(called)} X-rays; "
            f"p > 0.99 for {(called > 0.99).mean():.0%}; "
            f"median p(1 - p) = dp/dz: {np.median(called * (1 - called)):.4f}")


def layer_maps(model, x, layers, methods, progress: bool = True):
    """Each method's map of the pneumonia logit at each layer for every X-ray, scaled to [0, 1]
    per map and unscaled (``normalize=False``): ``(maps, unscaled)``, keyed (layer, method)."""
    from .. import explain

    maps = {(lay, m): explain(model, x, method=m, layer=lay, target=1, progress=progress)
            for lay in layers for m in methods}
    unscaled = {(lay, m): explain(model, x, method=m, layer=lay, target=1, normalize=False,
                                  progress=progress)
                for lay in layers for m in methods}
    return maps, unscaled


def flat_counts(magnitude):
    """The flat maps per (layer, method) and group of :func:`map_magnitude`'s table, one column
    per group."""
    return magnitude.pivot_table(index=["layer", "method"], columns="group", values="flat",
                                 sort=False)[list(XRAY_GROUPS)].astype(int).reset_index()


def write_magnitude(magnitude, out, data_name: str) -> None:
    """:func:`map_magnitude`'s table as ``<out>/map_magnitude.csv`` and ``.md``."""
    n = int(magnitude.groupby(["layer", "method"], sort=False)["maps"].sum().iloc[0])
    magnitude.to_csv(out / "map_magnitude.csv", index=False)
    (out / "map_magnitude.md").write_text(
        f"# Flat maps and unscaled magnitude ({data_name}, {n} X-rays, pneumonia logit)"
        "\n\nPer layer, method and group: maps, flat maps (max = min), empty maps (all zero), "
        "and the mean over maps of each unscaled map's maximum and mean, with 95 % bootstrap "
        "intervals (lo, hi).\n\n" + magnitude.to_markdown(index=False, floatfmt=".3g") + "\n")


def write_regions(region_table, group, out, data_name: str) -> None:
    """:func:`region_statistics`' table as ``<out>/region_share.csv`` and ``.md``, the latter
    with the group sizes of ``group``."""
    group = np.asarray(group)
    region_table.to_csv(out / "region_share.csv", index=False)
    (out / "region_share.md").write_text(
        f"# Map mass and peak by region ({data_name}, {len(group)} X-rays, pneumonia logit)\n\n"
        "Mean per group over the maps that are not flat (flat maps: `map_magnitude.md`); "
        "`area` is what a uniform map (or a random peak) scores. FP vs TN: two-sided "
        "Mann-Whitney U (mass share) or Fisher's exact test (peak inside), raw and "
        f"Holm-corrected over the table's {region_table['FP vs TN p'].notna().sum()} tests. "
        "Group sizes: " + ", ".join(f"{g} {int((group == g).sum())}" for g in XRAY_GROUPS)
        + "\n\n" + region_table.to_markdown(index=False, floatfmt=".3f") + "\n")
