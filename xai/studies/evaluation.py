"""The settings of notebook 08's evaluation: which model, samples, methods, metrics and
subsets each setting runs (:func:`evaluation_setting`, :data:`EVALUATION_SETTINGS`,
:data:`SUBSET_FRACTIONS`), its metric options (:func:`metric_options_for`, shared with the
photo studies) and what each method costs in passes (:func:`evaluation_costs`); and what the
notebook writes from its per-sample table: the samples per cell (:func:`evaluation_sizes`), the
report (:func:`evaluation_report`), the ranks and their figure (:func:`evaluation_ranks`,
:func:`rank_figure`) and the sanity check (:func:`evaluation_sanity`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .paths import REPO_ROOT, assets_dir
from .photos import imagenet_source, photo_model

#: methods whose maps cost tens to hundreds of passes: run on a seeded subset of large sets,
#: and not re-run by max-sensitivity (K perturbations × their cost)
COSTLY = ("smooth_gradcam++", "smoothgrad", "integrated_gradients", "scorecam", "rise", "sise",
          "opticam")
#: the settings of notebook 08, in order
EVALUATION_SETTINGS = ("photos", "photos with boxes", "mnist1d original", "mnist1d ours", "hmt",
                       "xray")
#: share of the samples on which the costly methods run, per large setting: an id-seeded,
#: nested subset (207 of the 1000 photos; at least 200 are wanted); every other method, both
#: baselines and every metric run on all samples. Delete the setting's
#: FinalResults/evaluation/samples folder and raise it to measure more (about 1 s per photo
#: per 10 % on a 2-core machine)
SUBSET_FRACTIONS = {"photos": 0.21}
#: a subset for one costly method in one setting: Opti-CAM's 100 Adam steps take about 2 s per
#: X-ray here, so it runs on an id-seeded third of the 624 (the other methods on all of them)
METHOD_SUBSETS = {"xray": {"opticam": 0.33}}
_METHOD_OPTIONS = {"rise": {"n_masks": 500}, "integrated_gradients": {"steps": 32}}
#: each setting runs in groups of methods, each group its own run (samples folder "<setting>"
#: for the first, "<setting> <group>" for the others), so registering a method recomputes only
#: the "newer" group's run; the first group computes the baselines, which the others pair with
METHOD_GROUPS = {
    "classic": ("gradcam", "gradcam++", "xgradcam", "layercam", "hirescam", "eigencam",
                "smooth_gradcam++", "scorecam", "saliency", "smoothgrad", "integrated_gradients",
                "guided_backprop", "guided_gradcam", "rise", "sise"),
    "newer": None,  # every other registered method, in registration order
}
_SMOKE = {"classic": ("gradcam", "saliency", "rise"), "newer": ("finercam", "reciprocam")}


def _methods(smoke: bool, group: str = "classic") -> dict:
    from .. import METHODS

    if group not in METHOD_GROUPS:
        raise ValueError(f"unknown method group {group!r}; choose one of {tuple(METHOD_GROUPS)}")
    names = METHOD_GROUPS[group] or [m for m in METHODS if m not in METHOD_GROUPS["classic"]]
    names = [m for m in (_SMOKE[group] if smoke else names) if m in METHODS]
    options = dict(_METHOD_OPTIONS, rise={"n_masks": 16 if smoke else 500})
    return {m: (m, options.get(m, {})) for m in names}


def all_methods(smoke: bool = False) -> dict:
    """Every group's methods of notebook 08 (name -> (name, options)), in group order."""
    return {k: v for group in METHOD_GROUPS for k, v in _methods(smoke, group).items()}


def metric_options_for(images: bool, smoke: bool) -> dict:
    """Notebook 08's metric options: removal by blurring (σ = 10 px) for images, zeros for
    signals; 10 deletion/insertion steps (4 in smoke runs)."""
    removal = {"baseline": "blur", "blur_sigma": 10.0} if images else {"baseline": 0.0}
    steps = 4 if smoke else 10
    return {"deletion": {"steps": steps, **removal}, "insertion": {"steps": steps, **removal},
            "drop_increase": {"keep": 0.3, **removal},
            "mufidelity": {"n_subsets": 8 if smoke else 32, **removal},
            "max_sensitivity": {"n_perturbations": 2 if smoke else 3}}


def _cropped_entry(entry: dict) -> dict:
    """A box entry for the centre square of its photo (boxes shifted, the square's size)."""
    side = min(entry["width"], entry["height"])
    top, left = (entry["height"] - side) // 2, (entry["width"] - side) // 2
    objects = [{**o, "box": [o["box"][0] - left, o["box"][1] - top, o["box"][2] - left,
                             o["box"][3] - top]} for o in entry["objects"]]
    return {**entry, "width": side, "height": side, "objects": objects}


def _boxes_source(zm, smoke: bool):
    from .. import data, metrics, viz
    from ..evaluation import from_arrays

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


def evaluation_setting(name: str, profile: str = "offline", smoke: bool = False,
                       group: str = "classic") -> dict:
    """Keyword arguments of :func:`xai.evaluation.evaluate` for one setting of notebook 08 and
    one of its :data:`METHOD_GROUPS`: ``model``, ``data``, ``methods``, ``metrics``,
    ``metric_options``, ``subsets``, ``exclude``, ``seed``, ``baselines`` and the ``recipe``
    that rebuilds it. The costly methods run on an id-seeded subset of the 1000 photos
    (:data:`SUBSET_FRACTIONS`); everything else on every sample."""
    from .. import data
    from ..evaluation import BASELINES, from_arrays

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
    methods = _methods(smoke, group)
    if name in SUBSET_FRACTIONS and not smoke:  # this machine's budget: see SUBSET_FRACTIONS
        subsets = {m: SUBSET_FRACTIONS[name] for m in COSTLY if m in methods}
    if not smoke:
        subsets.update({m: f for m, f in METHOD_SUBSETS.get(name, {}).items() if m in methods})
    return {"model": model, "data": source, "methods": methods, "metrics": metrics,
            "metric_options": metric_options_for(images, smoke), "subsets": subsets,
            "exclude": [(m, "max_sensitivity") for m in COSTLY if m in methods], "seed": 0,
            "baselines": BASELINES if group == "classic" else (),
            "recipe": {"study": "evaluation", "setting": name, "profile": profile,
                       "smoke": bool(smoke), **({} if group == "classic" else {"group": group})}}


def evaluation_costs(settings=EVALUATION_SETTINGS, profile="offline", smoke=False):
    """Forward and backward passes per sample of every method in each setting
    (:func:`xai.evaluation.passes_table`): the deterministic part of a method's cost."""
    import pandas as pd

    from ..evaluation import passes_table
    frames, methods = [], all_methods(smoke)
    for name in settings:
        try:
            s = evaluation_setting(name, profile, smoke)
        except FileNotFoundError:
            continue
        frames.append(passes_table(s["model"], methods, s["seed"]).assign(setting=name))
    return pd.concat(frames, ignore_index=True)[["setting", "method", "forward", "backward",
                                                 "exact"]]


def evaluation_sizes(table):
    """Samples per setting (rows) and method (columns) of a per-sample table."""
    return table.groupby(["setting", "method"], sort=False)["sample"].nunique().unstack()


def _scored(table):
    """The rows of ``table`` that are scores, and each score's direction
    (:func:`xai.evaluation.higher_is_better`; ``flat_map`` is a count, not a score)."""
    from ..evaluation import higher_is_better

    directions = higher_is_better(table)
    return table[table["metric"].isin(list(directions))], directions


def _yes_no(table, column):
    """``table`` with the boolean ``column`` written "yes" / "no" (Markdown shows booleans as
    True / False, or 1.000 / 0.000 when formatted as numbers)."""
    return table.assign(**{column: table[column].map({True: "yes", False: "no"})})


def evaluation_report(table, out, settings=EVALUATION_SETTINGS, profile="offline",
                      smoke=False, seed=0):
    """Notebook 08's report from its per-sample table (:func:`xai.studies.run_evaluation`).

    :func:`xai.stats.summarise` of the scores (means, 95 % bootstrap intervals, paired
    comparisons with the random and constant maps, Holm-corrected per setting) joined with each
    method's passes per sample (:func:`evaluation_costs`) goes to ``<out>/evaluation.csv``; the
    samples per cell, :func:`xai.stats.format_summary`'s table, the passes and the count of
    flat maps (no peak: never a pointing-game hit) to ``<out>/evaluation.md`` (``exact``
    as yes / no there; the CSV keeps booleans).

    Returns ``(summary, shown)``: the summary and its Markdown-ready table."""
    from .. import stats

    out = Path(out)
    scored, directions = _scored(table)
    summary = stats.summarise(scored, directions, seed=seed)
    costs = evaluation_costs(settings, profile, smoke)
    summary.merge(costs, on=["setting", "method"], how="left").to_csv(
        out / "evaluation.csv", index=False, float_format="%.6g")
    shown = stats.format_summary(summary)
    flat = table[table["metric"] == "flat_map"].pivot_table(index="method", columns="setting",
                                                            values="value", aggfunc="sum",
                                                            sort=False)
    (out / "evaluation.md").write_text(
        "# Every method on every model\n\n" + stats.LEGEND + "\n\nSamples per setting and "
        "method:\n\n" + evaluation_sizes(table).to_markdown() + "\n\n"
        + shown.to_markdown(index=False) + "\n\n## Passes per sample\n\n"
        + _yes_no(costs, "exact").to_markdown(index=False) + "\n\n## Flat maps (no peak: "
        "never a pointing-game hit)\n\n" + flat.to_markdown() + "\n")
    return summary, shown


def evaluation_ranks(table, out, seed=0, margin=5e-4):
    """Per setting and metric, the methods' ranks (baselines included; methods that their
    paired intervals do not separate share a rank, :func:`xai.stats.rank_table`, ``margin``:
    round-off ties), written to ``<out>/ranks.csv`` and returned."""
    from .. import stats

    scored, directions = _scored(table)
    ranks = stats.rank_table(scored, directions, seed=seed, margin=margin)
    ranks.to_csv(Path(out) / "ranks.csv", index=False)
    return ranks


def rank_figure(ranks):
    """One heat map per setting of :func:`evaluation_ranks`' table: methods in rows, metrics in
    columns, each cell its rank (1 = best), written in black or white, whichever reads better
    on the cell's colour (:func:`xai.viz.text_colour`). Returns the figure."""
    import matplotlib
    import matplotlib.pyplot as plt

    from ..viz import metric_label, text_colour

    grid = {name: t.pivot(index="method", columns="metric", values="rank").reindex(
        t["method"].drop_duplicates()) for name, t in ranks.groupby("setting", sort=False)}
    fig, axes = plt.subplots(1, len(grid), figsize=(3.4 * len(grid), 7.5), squeeze=False)
    cmap = matplotlib.colormaps["Blues_r"]
    for ax, (name, r) in zip(axes[0], grid.items()):
        norm = matplotlib.colors.Normalize(1, len(r) + 4)
        ax.imshow(r.to_numpy(dtype=float), cmap=cmap, norm=norm, aspect="auto")
        for (i, j), v in np.ndenumerate(r.to_numpy(dtype=float)):
            if np.isfinite(v):
                ax.text(j, i, int(v), ha="center", va="center", fontsize=7,
                        color=text_colour(cmap(norm(v))))
        ax.set_xticks(range(r.shape[1]), [metric_label(c) for c in r.columns], rotation=60,
                      ha="right", fontsize=7)
        ax.set_yticks(range(len(r)), r.index, fontsize=7)
        ax.set_title(name, fontsize=9)
    fig.suptitle("Rank of each method per metric (1 = best, darkest; equal numbers: not "
                 "separated by the paired 95 % intervals; blank: not measured)", fontsize=10)
    fig.tight_layout()
    return fig


def evaluation_sanity(out, profile="offline", smoke=False, n_images=4, n_layers=6, seed=0):
    """Cascading randomisation (Adebayo et al. 2018) of the photo model: its top ``n_layers``
    randomisable layers (:func:`xai.metrics.randomisable_layers`) re-drawn one after the other,
    and every method of the "photos with boxes" setting compared with the trained model's maps
    on that setting's first ``n_images`` photos (:func:`xai.metrics.sanity_curves`). Writes
    ``<out>/sanity_curves.csv`` and the last step's verdicts
    (:func:`xai.metrics.sanity_verdict`) to ``<out>/sanity_last_step.csv``.

    Returns ``(curves, last, layers)``: the curves, the verdicts and the randomised layers,
    top first."""
    from .. import metrics

    out = Path(out)
    s = evaluation_setting("photos with boxes", profile, smoke)
    x_sanity = s["data"].subset(s["data"].ids[:n_images]).load(np.arange(n_images))
    top = list(reversed(metrics.randomisable_layers(s["model"])))[:n_layers]
    curves = metrics.sanity_curves(s["model"], x_sanity, all_methods(smoke), layers=top,
                                   seed=seed)
    curves.to_csv(out / "sanity_curves.csv", index=False)
    last = metrics.sanity_verdict(curves)
    last.to_csv(out / "sanity_last_step.csv")
    return curves, last, top
