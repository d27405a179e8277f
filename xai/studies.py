"""The project's studies as data: which model, which samples, which methods and metrics each
evaluation setting runs (:func:`evaluation_setting`, Part 1's :func:`part1_setting`), where its
per-sample table lives, and the spot check that recomputes random committed rows
(:func:`spot_check`). Notebooks and the CI check build settings here, so both compute exactly
the same thing; :func:`part1_summary` turns Part 1's table into its paired statistics."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
#: methods whose maps cost tens to hundreds of passes: run on a seeded subset of large sets,
#: and not re-run by max-sensitivity (K perturbations × their cost)
COSTLY = ("smooth_gradcam++", "smoothgrad", "integrated_gradients", "scorecam", "rise", "sise")
#: the settings of notebook 08, in order
EVALUATION_SETTINGS = ("photos", "photos with boxes", "mnist1d original", "mnist1d ours", "hmt",
                       "xray")
#: share of the samples on which the costly methods run, per large setting: an id-seeded,
#: nested subset (207 of the 1000 photos; at least 200 are wanted); every other method, both
#: baselines and every metric run on all samples. Delete the setting's
#: FinalResults/evaluation/samples folder and raise it to measure more (about 1 s per photo
#: per 10 % on a 2-core machine)
SUBSET_FRACTIONS = {"photos": 0.21}
_METHOD_OPTIONS = {"rise": {"n_masks": 500}, "integrated_gradients": {"steps": 32}}
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


def assets_dir() -> Path:
    """The offline assets: ``$XAI_ASSETS``, else ``../shared/assets`` beside the repository."""
    return Path(os.environ.get("XAI_ASSETS", REPO_ROOT.parent / "shared" / "assets"))


def samples_dir(results: Path, study: str, setting: str) -> Path:
    """Folder of a setting's per-sample table: ``<results>/<study>/samples/<setting>``."""
    return Path(results) / study / "samples" / setting.replace(" ", "_")


def _methods(smoke: bool) -> dict:
    from . import METHODS

    names = ["gradcam", "saliency", "rise"] if smoke else list(METHODS)
    options = dict(_METHOD_OPTIONS, rise={"n_masks": 16 if smoke else 500})
    return {m: (m, options.get(m, {})) for m in names}


def metric_options_for(images: bool, smoke: bool) -> dict:
    """Notebook 08's metric options: removal by blurring (σ = 10 px) for images, zeros for
    signals; 10 deletion/insertion steps (4 in smoke runs)."""
    removal = {"baseline": "blur", "blur_sigma": 10.0} if images else {"baseline": 0.0}
    steps = 4 if smoke else 10
    return {"deletion": {"steps": steps, **removal}, "insertion": {"steps": steps, **removal},
            "drop_increase": {"keep": 0.3, **removal},
            "mufidelity": {"n_subsets": 8 if smoke else 32, **removal},
            "max_sensitivity": {"n_perturbations": 2 if smoke else 3}}


def photo_model(profile: str):
    """The photos' classifier: MobileNet α = 0.25 offline, VGG16 online."""
    from . import models
    return models.load("mobilenet", alpha=0.25) if profile == "offline" else models.load("vgg16")


def imagenet_source(zm, smoke: bool):
    """The 1000 ImageNet photos (one per class; ``smoke``: every 125th) as a Source, centre
    224 crop preprocessed for ``zm``, ids = file stems, labels = Keras class indices."""
    from . import data
    from .evaluation import Source

    folder = assets_dir() / "imagenet_samples"
    table = data.imagenet_labels(folder)
    if smoke:
        table = table.iloc[::125]
    rows = table.index.to_numpy()
    return Source(table["file"].str.rsplit(".", n=1).str[0].tolist(),
                  table["class_index"].to_numpy(),
                  lambda idx: zm.preprocess(data.load_imagenet_samples(folder, rows[idx],
                                                                       zm.input_size[0])),
                  description="ImageNet photos, one per class")


def _cropped_entry(entry: dict) -> dict:
    """A box entry for the centre square of its photo (boxes shifted, the square's size)."""
    side = min(entry["width"], entry["height"])
    top, left = (entry["height"] - side) // 2, (entry["width"] - side) // 2
    objects = [{**o, "box": [o["box"][0] - left, o["box"][1] - top, o["box"][2] - left,
                             o["box"][3] - top]} for o in entry["objects"]]
    return {**entry, "width": side, "height": side, "objects": objects}


def _boxes_source(zm, smoke: bool):
    from . import data, metrics, viz
    from .evaluation import from_arrays

    boxes = data.load_boxes()
    photos = data.sample_images()
    photos.update({p.stem: data.load_image(p) for p in sorted((assets_dir() / "images").iterdir())
                   if p.stem in boxes})
    names = [n for n in boxes if n in photos][:2 if smoke else None]
    images = viz.resize([data.centre_crop(photos[n]) for n in names], zm.input_size, "area")
    regions = np.stack([metrics.object_mask(_cropped_entry(boxes[n]), zm.input_size)
                        for n in names])
    return from_arrays(zm.preprocess(images), ids=names, regions=regions,
                       description="photos with hand-drawn boxes (centre-cropped)")


def _keras_model(path: Path):
    import keras
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path} (offline assets: set XAI_ASSETS)")
    return keras.models.load_model(path, compile=False)


def evaluation_setting(name: str, profile: str = "offline", smoke: bool = False) -> dict:
    """Keyword arguments of :func:`xai.evaluation.evaluate` for one setting of notebook 08:
    ``model``, ``data``, ``methods``, ``metrics``, ``metric_options``, ``subsets``, ``exclude``,
    ``seed`` and the ``recipe`` that rebuilds it. The costly methods run on an id-seeded subset
    of the 1000 photos (:data:`SUBSET_FRACTIONS`); everything else on every sample."""
    from . import data
    from .evaluation import from_arrays

    images = name not in ("mnist1d original", "mnist1d ours")
    metrics = ["deletion", "insertion", "drop_increase", "mufidelity", "max_sensitivity"]
    subsets = {}
    if name == "photos":
        zm = photo_model(profile)
        model, source = zm.model, imagenet_source(zm, smoke)
    elif name == "photos with boxes":
        zm = photo_model(profile)
        model, source, metrics = zm.model, _boxes_source(zm, smoke), ["pointing_game",
                                                                       "energy_share"]
    elif name.startswith("mnist1d"):
        mn = data.mnist1d()
        path = (assets_dir() / "seed_models" / "MNIST1D.h5" if name.endswith("original")
                else REPO_ROOT / "models" / "mnist1d_cnn.keras")
        n = 16 if smoke else len(mn["x_test"])
        model = _keras_model(path)
        source = from_arrays(mn["x_test"][:n], mn["y_test"][:n], description="MNIST-1D test")
    elif name == "hmt":
        model = _keras_model(assets_dir() / "seed_models" / "HMT.h5")
        x, y, tiles = data.load_kather(assets_dir() / "kather2016",
                                       max_per_class=1 if smoke else None)
        source = from_arrays(x[:2] if smoke else x, y[:2] if smoke else y,
                             ids=tiles[:2] if smoke else tiles, description="Kather 2016 tiles")
    elif name == "xray":
        model = _keras_model(assets_dir() / "xray_models" / "pneumonia_cnn_am1codes.h5")
        x, y, films = data.load_xray(assets_dir() / "chest_xray" / "kermany_test",
                                     max_per_class=2 if smoke else None)
        source = from_arrays(x, y, ids=films, description="Kermany test X-rays")
    else:
        raise ValueError(f"unknown setting {name!r}; choose one of {EVALUATION_SETTINGS}")
    methods = _methods(smoke)
    if name in SUBSET_FRACTIONS and not smoke:  # this machine's budget: see SUBSET_FRACTIONS
        subsets = {m: SUBSET_FRACTIONS[name] for m in COSTLY if m in methods}
    return {"model": model, "data": source, "methods": methods, "metrics": metrics,
            "metric_options": metric_options_for(images, smoke), "subsets": subsets,
            "exclude": [(m, "max_sensitivity") for m in COSTLY if m in methods], "seed": 0,
            "recipe": {"study": "evaluation", "setting": name, "profile": profile,
                       "smoke": bool(smoke)}}


def part1_setting(name: str, profile: str = "offline", smoke: bool = False) -> dict:
    """Keyword arguments of :func:`xai.evaluation.evaluate` for Part 1's masked
    re-classification with architecture ``name`` (:data:`PART1_MODELS`; offline: MobileNet
    alpha 0.25 from the offline Keras cache) on the 1000 ImageNet photos (``smoke``: every
    125th): Grad-CAM, Grad-CAM++ and Smooth Grad-CAM++ (n = 25, seed 0) at the architecture's
    default layer, pixels kept where the CAM ≥ :data:`PART1_THRESHOLD`, the others set to a
    black pixel's preprocessed value, as the study masked to black before preprocessing."""
    from . import models

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

    from . import stats

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


def run_setting(results, name: str, profile: str = "offline", smoke: bool = False,
                progress: bool = True, study: str = "evaluation"):
    """Evaluate one setting of ``study`` into its samples folder (finished shards are kept)
    and return its per-sample table with a ``setting`` column."""
    from .evaluation import evaluate

    out = samples_dir(results, study, name)
    table = evaluate(**BUILDERS[study](name, profile, smoke), out=out, progress=progress)
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


def evaluation_costs(settings=EVALUATION_SETTINGS, profile="offline", smoke=False):
    """Forward and backward passes per sample of every method in each setting
    (:func:`xai.evaluation.passes_table`): the deterministic part of a method's cost."""
    import pandas as pd

    from .evaluation import passes_table
    frames = []
    for name in settings:
        try:
            s = evaluation_setting(name, profile, smoke)
        except FileNotFoundError:
            continue
        frames.append(passes_table(s["model"], s["methods"], s["seed"]).assign(setting=name))
    return pd.concat(frames, ignore_index=True)[["setting", "method", "forward", "backward",
                                                 "exact"]]


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

    from .evaluation import load_table

    out = Path(out)
    recipe = json.loads((out / "manifest.json").read_text())["settings"]["recipe"]
    setting = BUILDERS[recipe["study"]](recipe["setting"], recipe["profile"], recipe["smoke"])
    table = load_table(out)
    rng = np.random.default_rng(seed)
    first = table.groupby("method", sort=False).sample(1, random_state=rng)
    rest = table.drop(first.index)
    picked = pd.concat([first, rest.sample(min(len(rest), max(0, n_rows - len(first))),
                                           random_state=rng)])
    checked = []
    for method, rows in picked.groupby("method", sort=False):
        merged = rows.merge(_recompute(setting, rows), on=["sample", "method", "metric"],
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


def _recompute(setting: dict, rows):
    """:func:`xai.evaluation.evaluate` of ``setting`` on the samples, method and metrics of
    ``rows`` (one method's rows)."""
    from .evaluation import METRICS, evaluate

    method = rows["method"].iloc[0]
    methods = {method: setting["methods"][method]} if method in setting["methods"] else {}
    kwargs = dict(setting, data=setting["data"].subset(rows["sample"].unique()), methods=methods)
    kwargs["metrics"] = [m for m in setting["metrics"]
                         if set(METRICS[m].higher) & set(rows["metric"])]
    kwargs["subsets"] = {k: v for k, v in setting["subsets"].items()
                         if k in methods or k in kwargs["metrics"]}
    kwargs.pop("recipe")
    return evaluate(**kwargs, progress=False)


#: study name -> f(setting, profile, smoke) giving :func:`xai.evaluation.evaluate`'s arguments;
#: a manifest's ``recipe`` names one, so :func:`spot_check` can rebuild any committed table
BUILDERS = {"evaluation": evaluation_setting, "part1": part1_setting}


# --------------------------------------------------------------------------------------------
# Chest X-ray study (notebook 05): outcome groups, regions, where the maps point, how strong
# they are, and the border-covered check
# --------------------------------------------------------------------------------------------

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
    (rows: true class, columns: predicted class, every class shown): ``(recall, confusion)``."""
    import pandas as pd

    y, pred = np.asarray(y), np.asarray(pred)
    names = [classes[c] for c in y]
    recall = (pd.DataFrame({"class": names, "correct": pred == y})
              .groupby("class", sort=False)
              .agg(images=("correct", "size"), correct=("correct", "sum"),
                   recall=("correct", "mean")).reset_index())
    recall.loc[len(recall)] = ["all (accuracy)", len(y), int((pred == y).sum()),
                               float((pred == y).mean())]
    confusion = pd.crosstab(pd.Categorical(names, list(classes)),
                            pd.Categorical([classes[c] for c in pred], list(classes)),
                            rownames=["true"], colnames=["predicted"], dropna=False)
    return recall, confusion


def xray_regions(size, border: float = 0.1, corner: float = 0.2) -> dict:
    """The three regions of notebook 05 as (H, W) boolean masks: ``border band`` (the outer
    ``border`` fraction of each side), ``corners`` (four squares of ``corner`` of the height)
    and ``centre`` (the middle half of each side)."""
    from . import metrics

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

    from . import metrics

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

    from .stats import holm

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

    from .stats import bootstrap_mean

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


# --------------------------------------------------------------------------------------------
# depth (notebook 06): CAMs at the first, middle and last layer of a network
# --------------------------------------------------------------------------------------------

#: the CAMs notebook 06 compares at each depth
DEPTH_METHODS = ("gradcam", "gradcam++", "xgradcam", "eigencam", "layercam")
#: the architectures of notebook 06 in each profile
DEPTH_MODELS = {"offline": ("mobilenet",), "online": ("densenet121", "resnet152", "inceptionv3")}
_DEPTH_METRICS = ("deletion", "insertion", "drop_increase")
#: share of the 1000 photos scored (id-seeded: 241 photos): the 15 maps × 3 metrics cost about
#: 10 s a photo for MobileNet-0.25 on two busy CPU cores (forward passes: ~3 h for all 1000)
DEPTH_FRACTION = 0.25


def depth_model(name: str, profile: str = "offline"):
    """The :class:`xai.models.ZooModel` of architecture ``name`` for notebook 06: MobileNet
    with α = 0.25 (the offline weights), any other architecture with its ImageNet weights."""
    from . import models

    key = models.canonical_name(name)  # ValueError listing the architectures
    if profile == "offline" and key != "mobilenet":
        raise ValueError(f"the offline profile has ImageNet weights for 'mobilenet' (α = 0.25) "
                         f"only, not {name!r}; use profile='online' to download them")
    return models.load(name, **({"alpha": 0.25} if key == "mobilenet" else {}))


def depth_setting(name: str, profile: str = "offline", smoke: bool = False) -> dict:
    """Keyword arguments of :func:`xai.evaluation.evaluate` for notebook 06 on architecture
    ``name``: each CAM of :data:`DEPTH_METHODS` at each layer of
    :func:`xai.models.depth_layers`, labelled ``"<method>@<depth>"`` (e.g. ``"gradcam@first"``
    → ``("gradcam", {"layer": "conv_pw_3_relu"})``), on an id-seeded :data:`DEPTH_FRACTION`
    of the 1000 centre-cropped ImageNet photos (241 photos), scored by deletion and insertion
    (10 steps, blurred pixels, σ = 10 px; Petsiuk et al. 2018) and Average Drop / Increase /
    Gain at 30 % kept (Chattopadhay et al. 2018), the options of notebook 08's photos.
    ``smoke``: 8 photos, two CAMs, 4 steps."""
    from . import models

    zm = depth_model(name, profile)
    cams = DEPTH_METHODS[:2] if smoke else DEPTH_METHODS
    methods = {f"{m}@{d}": (m, {"layer": layer})
               for d, layer in models.depth_layers(name).items() for m in cams}
    options = metric_options_for(True, smoke)
    # the maps and the baselines' scores on the same id-seeded photos (the engine draws one
    # u(id) per photo for every entry of ``subsets``)
    subsets = {} if smoke else {k: DEPTH_FRACTION for k in (*methods, *_DEPTH_METRICS)}
    return {"model": zm.model, "data": imagenet_source(zm, smoke), "methods": methods,
            "metrics": list(_DEPTH_METRICS),
            "metric_options": {k: options[k] for k in _DEPTH_METRICS}, "subsets": subsets,
            "exclude": [], "seed": 0,
            "recipe": {"study": "depth", "setting": name, "profile": profile,
                       "smoke": bool(smoke)}}


def by_depth(table):
    """A depth setting's per-sample table with the layer as a column: the label
    ``"gradcam@middle"`` becomes ``method`` "gradcam" and ``depth`` "middle"; the rows of the
    baselines (``"random"``, ``"constant"``: no layer) are repeated under every depth, so the
    statistics pair each layer's methods with them (depths in order of appearance)."""
    import pandas as pd

    if table.empty:
        raise ValueError("by_depth got an empty table; run the depth setting first")
    split = table["method"].str.split("@", n=1, expand=True).reindex(columns=[0, 1])
    layered = split[1].notna()
    if not layered.any():
        raise ValueError("no '<method>@<depth>' labels in the table (e.g. 'gradcam@first'): "
                         "is it a depth setting's table (xai.studies.depth_setting)?")
    maps = table[layered].assign(method=split.loc[layered, 0], depth=split.loc[layered, 1])
    baselines = [table[~layered].assign(depth=d) for d in pd.unique(maps["depth"])]
    return pd.concat([maps, *baselines], ignore_index=True)


#: a manifest's recipe {"study": "depth", ...} is rebuilt by :func:`depth_setting`
BUILDERS["depth"] = depth_setting

# the studies of their own modules register their builders in BUILDERS when imported
from . import study_class, study_part2  # noqa: E402,F401
