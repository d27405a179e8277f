"""Part 1's masked re-classification: its setting (:func:`part1_setting`: architectures,
CAMs, threshold), the paired statistics of each CAM against its same-area controls
(:func:`part1_summary`) and their Markdown table (:func:`format_part1`, :data:`PART1_LEGEND`);
for notebook 01, its photos (:func:`part1_photos`), the panels of its per-photo figures
(:func:`part1_panels`) and its 1000-photo table written to disk (:func:`part1_table`)."""
from __future__ import annotations

from pathlib import Path

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


def part1_photos(folder=None, assets_images=None, smoke: bool = False) -> dict:
    """Notebook 01's photos by name, uint8 RGB at their own size.

    With ``folder`` None: scikit-image's chelsea, coffee and astronaut (bundled) and the
    ``*.jpg`` of ``assets_images`` (the offline assets' Pascal VOC photos; none when the folder
    is missing); else every image file of ``folder`` (:data:`xai.data.IMAGE_EXTENSIONS`).
    ``smoke``: the first two."""
    from .. import data

    if folder is None:
        photos = data.sample_images()
        originals = {name: photos[name] for name in ("chelsea", "coffee", "astronaut")}
        if assets_images is not None:
            originals.update({p.stem: data.load_image(p)
                              for p in sorted(Path(assets_images).glob("*.jpg"))})
    else:
        originals = {p.stem: data.load_image(p)
                     for p in sorted(Path(folder).expanduser().iterdir())
                     if p.suffix.lower() in data.IMAGE_EXTENSIONS}
    if smoke:
        originals = dict(list(originals.items())[:2])
    return originals


def part1_panels(originals: dict, architectures, methods=PART1_METHODS,
                 threshold: float = PART1_THRESHOLD, smooth_n: int = 25, seed: int = 0,
                 model_options: dict | None = None) -> tuple[dict, dict]:
    """The panels of notebook 01's two figures per photo, one row per architecture.

    Per architecture (:func:`xai.models.load` with ``model_options[arch]``): each photo's
    centre square resized to the input size (area interpolation), its top-1 class, each of
    ``methods`` for that class at the default layer (Smooth Grad-CAM++ with ``smooth_n`` noisy
    copies and ``seed``), then the photo with only the pixels where that CAM ≥ ``threshold``
    (the others black) classified again: the class is "kept" when the top-1 class is the same.

    Returns
    -------
    cam_rows, masked_rows : dict
        Per photo name, a list of rows of :func:`xai.viz.grid` panels: the input titled with
        its class and probability followed by each CAM's overlay; each masked photo titled with
        its new class, probability and "(kept)" or "(lost)".
    """
    from .. import data, explain, models, scores, viz

    names = list(originals)
    options = {"smooth_gradcam++": {"n": smooth_n, "seed": seed}}
    cam_rows = {name: [] for name in names}  # per image, one row of panels per classifier
    masked_rows = {name: [] for name in names}
    for arch in architectures:
        zm = models.load(arch, **(model_options or {}).get(arch, {}))
        x_img = viz.resize([data.centre_crop(im) for im in originals.values()], zm.input_size,
                           "area")  # uint8 (N, H, W, 3), the centre square of each photo
        x = zm.preprocess(x_img)
        before = [top[0] for top in zm.decode(scores.class_scores(zm.model, x, "probability"),
                                              top=1)]
        cams = {m: explain(zm.model, x, method=m, layer=zm.default_layer, **options.get(m, {}))
                for m in methods}
        for i, name in enumerate(names):
            cam_rows[name].append([{"data": x_img[i],
                                    "title": f"{before[i][1]} {before[i][2]:.2f}"}]
                                  + [viz.overlay(x_img[i], cams[m][i]) for m in methods])
            masked_rows[name].append([])
        for m in methods:
            masked = np.where((cams[m] >= threshold)[..., None], x_img, 0).astype(np.uint8)
            probs = scores.class_scores(zm.model, zm.preprocess(masked), "probability")
            after = [top[0] for top in zm.decode(probs, top=1)]
            for i, name in enumerate(names):
                verdict = "kept" if after[i][0] == before[i][0] else "lost"
                masked_rows[name][-1].append(
                    {"data": masked[i], "title": f"{after[i][1]} {after[i][2]:.2f} ({verdict})"})
        print(f"{arch}: done")
    return cam_rows, masked_rows


def part1_table(results, architectures, profile: str = "offline", smoke: bool = False,
                out=None):
    """Part 1's masked re-classification on the 1000 photos, per architecture
    (:func:`part1_setting`, run by :func:`xai.studies.run_setting` into
    ``<results>/part1/samples/<arch>``: only missing shards are computed), its statistics
    (:func:`part1_summary`) written to ``<out>/masked_reclassification.csv`` and its table
    (:func:`format_part1`, with :data:`PART1_LEGEND`) to ``masked_reclassification.md``;
    ``out`` defaults to ``<results>/part1``.

    Returns ``(table, summary, shown)``: the per-sample table with a ``setting`` column, the
    summary and the Markdown-ready table."""
    import pandas as pd

    from .runs import run_setting

    out = Path(results) / "part1" if out is None else Path(out)
    table = pd.concat([run_setting(results, arch, profile, smoke, study="part1")
                       for arch in architectures], ignore_index=True)
    summary = part1_summary(table)
    shown = format_part1(summary)
    (out / "masked_reclassification.md").write_text(
        f"# Masked re-classification (CAM ≥ {PART1_THRESHOLD}), "
        f"{table['sample'].nunique()} ImageNet photos\n\n"
        + shown.to_markdown(index=False) + "\n\n" + PART1_LEGEND + "\n")
    summary.to_csv(out / "masked_reclassification.csv", index=False)
    return table, summary, shown
