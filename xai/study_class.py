"""Class-specific maps at dataset scale (notebook 07): on the 1000 ImageNet photos, how
different each CAM's map for the top-1 class is from its map for the runner-up class, and
what its counterfactual map of the top-1 class shows (:func:`class_setting`), with the
class-agnostic (constant) and chance (random) references; :func:`with_subsets` splits the
table by how far apart the two classes are, :func:`imagenet_tables`,
:func:`imagenet_statistics` and :func:`distribution_figure` give what the notebook shows of it.
The one-photo illustration before it: :func:`cat_dog_classes`, :func:`cat_dog_maps`,
:func:`cat_dog_figure`, :func:`separation_table`."""
from __future__ import annotations

from . import studies

#: the CAMs of notebook 07 (Score-CAM uses no gradients: it has no counterfactual map)
CLASS_METHODS = ("gradcam", "gradcam++", "layercam", "scorecam")
#: share of the photos Score-CAM runs on (id-seeded: about 250 of 1000; two maps of 1024 masked
#: passes each per photo, ~1 s on an idle 2-core machine)
SCORECAM_FRACTION = 0.25
#: the "top region" of a map for the IoU, as in the cat/dog demonstration
TOP_FRACTION = 0.2
#: a runner-up this probable is a real second candidate
RUNNER_UP_PROBABILITY = 0.1
#: ImageNet classes 0-397 are animals, 398-999 objects, scenes and food
ANIMALS = 398


def class_setting(name: str = "photos", profile: str = "offline", smoke: bool = False) -> dict:
    """Keyword arguments of :func:`xai.evaluation.evaluate` for notebook 07's dataset section:
    each CAM of :data:`CLASS_METHODS` at the model's default layer on the 1000 centre-cropped
    ImageNet photos (MobileNet-0.25 offline, VGG16 online), scored by ``class_separation``
    (IoU of the top-:data:`TOP_FRACTION` regions and peak distance of the maps for the top-1
    and the runner-up class) and ``counterfactual`` (gradient CAMs: is the top-1's
    counterfactual map empty; its IoU with the runner-up's map). Score-CAM runs on an
    id-seeded :data:`SCORECAM_FRACTION` of the photos. ``smoke``: 8 photos, Grad-CAM and
    Score-CAM."""
    if name != "photos":
        raise ValueError(f"the class-specific study has one setting, 'photos'; got {name!r}")
    zm = studies.photo_model(profile)
    cams = ("gradcam", "scorecam") if smoke else CLASS_METHODS
    options = {"fraction": TOP_FRACTION}
    return {"model": zm.model, "data": studies.imagenet_source(zm, smoke),
            "methods": {m: (m, {"layer": zm.default_layer}) for m in cams},
            "metrics": ["class_separation", "counterfactual"],
            "metric_options": {"class_separation": options, "counterfactual": options},
            "subsets": {} if smoke else {"scorecam": SCORECAM_FRACTION},
            "exclude": [("scorecam", "counterfactual")], "seed": 0,
            "recipe": {"study": "class_specific", "setting": name, "profile": profile,
                       "smoke": bool(smoke)}}


def with_subsets(table, min_probability: float = RUNNER_UP_PROBABILITY):
    """The study's table with a ``photos`` column, its rows repeated per subset: ``all``;
    ``runner-up p ≥ <min_probability>`` (the model gives the second class a real share);
    ``animal vs other`` (one class is an animal, ImageNet 0-397, the other not: two different
    things, so their maps should part). Only the directional metrics are kept; a photo's
    runner-up is read from its ``runner_up`` rows."""
    import pandas as pd

    need = {"runner_up", "runner_up_probability"}
    if not need <= set(table["metric"]):
        raise ValueError("the table has no runner_up rows: is it the class-specific study's "
                         "table (xai.study_class.class_setting, metric class_separation)?")
    per = (table[table["metric"].isin(need)].drop_duplicates(["sample", "metric"])
           .pivot(index="sample", columns="metric", values="value"))
    target = table.drop_duplicates("sample").set_index("sample")["target"]
    split = (target.loc[per.index] < ANIMALS) != (per["runner_up"] < ANIMALS)
    picks = {"all": per.index,
             f"runner-up p ≥ {min_probability:g}":
                 per.index[per["runner_up_probability"] >= min_probability],
             "animal vs other": per.index[split.to_numpy()]}
    scores = table[~table["metric"].isin(need)]
    return pd.concat([scores[scores["sample"].isin(ids)].assign(photos=name)
                      for name, ids in picks.items()], ignore_index=True)



def photo_ready(path) -> bool:
    """Whether the cat/dog photo ``path`` exists; if not, says so and how to set another."""
    if not path.is_file():
        print(f"SKIPPED: no photo at {path}. Set image_path to a photo with a cat and a dog "
              "(e.g. the cat_dog.png of the Grad-CAM paper); the rest of the notebook does "
              "nothing.")
    return path.is_file()

def cat_dog_classes(probs) -> dict:
    """One photo's best cat class (ImageNet 281-285) and best dog class (151-268) by the
    classifier's probabilities ``probs`` (1000,): ``{"cat": index, "dog": index}``."""
    import numpy as np

    from .imagenet import CAT_CLASSES, DOG_CLASSES

    cat = CAT_CLASSES[int(np.argmax(probs[list(CAT_CLASSES)]))]
    dog = DOG_CLASSES[int(np.argmax(probs[list(DOG_CLASSES)]))]
    return {"cat": cat, "dog": dog}


def top_classes(zm, probs, classes: dict, top: int = 5) -> str:
    """The classifier's ``top`` classes of one photo (``probs`` (1, 1000)), one line each
    ("1. boxer (242): 0.346"), then each of ``classes`` (:func:`cat_dog_classes`) with its
    probability."""
    from .imagenet import imagenet_class_names

    names = imagenet_class_names()
    lines = [f"{rank}. {name} ({i}): {prob:.3f}"
             for rank, (i, name, prob) in enumerate(zm.decode(probs, top=top)[0], 1)]
    return "\n".join([*lines, "; ".join(f"best {who} class: {names[c]} ({c}) {probs[0, c]:.3f}"
                                         for who, c in classes.items())])


def cat_dog_maps(zm, x, classes: dict, methods) -> tuple:
    """Each of ``methods`` at ``zm``'s default layer on the one photo ``x`` (1, H, W, 3), for
    each of ``classes``: ``(maps, counter)``, ``maps[who, method]`` the map (H, W) and
    ``counter[who, method]`` the counterfactual map (gradients negated; Score-CAM has none)."""
    from . import explain

    maps, counter = {}, {}
    for who, c in classes.items():
        for m in methods:
            maps[who, m] = explain(zm.model, x, method=m, layer=zm.default_layer, target=c,
                                   progress=False)[0]
            if m != "scorecam":
                counter[who, m] = explain(zm.model, x, method=m, layer=zm.default_layer,
                                          target=c, counterfactual=True, progress=False)[0]
    return maps, counter


def _map_panel(image, m):
    """A grid panel: the map ``m`` over the photo, or None; an all-zero map says so."""
    from . import viz

    if m is None:
        return None
    return {"data": viz.overlay(image, m), "note": None if m.any() else "empty map\n(all zeros)"}


def cat_dog_figure(zm, image, maps, counter, classes: dict, methods, path=None):
    """The maps of :func:`cat_dog_maps` over the photo ``image``: rows = each class, then each
    class's counterfactual map ("against ..."), named left of the maps; columns = each method,
    the photo once at the top left; an all-zero map is labelled "empty map"; a colour bar for
    the maps (jet on [0, 1]). Saved at ``path`` if given."""
    from matplotlib.cm import ScalarMappable

    from . import viz
    from .imagenet import imagenet_class_names

    names = imagenet_class_names()
    rows = [[maps[who, m] for m in methods] for who in classes]
    rows += [[counter.get((who, m)) for m in methods] for who in classes]
    rows = [[image if k == 0 else None] + [_map_panel(image, m) for m in row]
            for k, row in enumerate(rows)]
    titles = [f"{who}: {names[c]}" for who, c in classes.items()]
    fig = viz.grid(rows, col_titles=["photo", *methods], panel_size=2.3, dpi=90,
                   suptitle=f"{zm.name}: maps for the cat and the dog class, and counterfactual "
                            "maps (blank: the method has no counterfactual map)")
    for i, title in enumerate(titles + [f"against {t}" for t in titles]):
        fig.axes[i * (len(methods) + 1) + 1].set_ylabel(title, fontsize=10)  # left of the maps
    fig.tight_layout()
    bar = fig.colorbar(ScalarMappable(cmap=viz.MAP_CMAP), ax=fig.axes, fraction=0.02, pad=0.01)
    bar.set_label("map value over the photo (0 = low, 1 = high)")
    if path is not None:
        viz.save(fig, path, dpi=90)
    return fig


def _pair(measure, a, b, *args) -> float:
    """``measure`` of two maps, NaN when either is all zero: an empty map has no region and no
    peak."""
    import numpy as np

    return float(measure(a[None], b[None], *args)[0]) if a.any() and b.any() else np.nan


def _separation_row(m: str, maps, counter, top_fraction: float) -> dict:
    """One method's row of :func:`separation_table`."""
    from .metrics import peak_distance, top_iou

    row = {"method": m,
           "IoU cat vs dog": _pair(top_iou, maps["cat", m], maps["dog", m], top_fraction),
           "peak distance cat vs dog": _pair(peak_distance, maps["cat", m], maps["dog", m])}
    if ("cat", m) in counter:
        row["IoU dog vs against-cat"] = _pair(top_iou, maps["dog", m], counter["cat", m],
                                              top_fraction)
        row["IoU cat vs against-dog"] = _pair(top_iou, maps["cat", m], counter["dog", m],
                                              top_fraction)
    return row


def _note(m: str, maps, counter, classes) -> str:
    """Which of a method's maps are all zero ("empty map: against dog"), or "-"."""
    empty = [f"{kind} {who}" for kind, d in (("for", maps), ("against", counter))
             for who in classes if (who, m) in d and not d[who, m].any()]
    return f"empty map: {', '.join(empty)} (its IoU is NaN)" if empty else "-"


def separation_table(maps, counter, classes: dict, methods, top_fraction: float = TOP_FRACTION):
    """Per method, how separate the cat's and the dog's maps of :func:`cat_dog_maps` are: the
    IoU of their top-``top_fraction`` regions (:func:`xai.metrics.top_iou`), the distance of
    their peaks (:func:`xai.metrics.peak_distance`), each class's map against the other's
    counterfactual map, and a ``note`` naming the maps that are all zero. An empty map has no
    region (and no peak): a number with it is NaN, not 0."""
    import pandas as pd

    separation = pd.DataFrame([_separation_row(m, maps, counter, top_fraction)
                               for m in methods])
    separation["note"] = [_note(m, maps, counter, classes) for m in methods]
    return separation


def save_separation(separation, out, image_name: str, model_name: str, classes: dict,
                    top_fraction: float = TOP_FRACTION) -> None:
    """:func:`separation_table` as ``separation.csv`` and ``separation.md`` in ``out``, the
    markdown titled with the photo, the model and the two classes."""
    from .imagenet import imagenet_class_names

    names = imagenet_class_names()
    separation.to_csv(out / "separation.csv", index=False)
    (out / "separation.md").write_text(
        f"# Cat vs dog maps on {image_name} ({model_name}; cat class {names[classes['cat']]}, "
        f"dog class {names[classes['dog']]}; top {top_fraction:.0%} regions)\n\n"
        + separation.to_markdown(index=False, floatfmt=".3f") + "\n")


def imagenet_tables(results, profile: str = "offline", smoke: bool = False) -> tuple:
    """The study's per-sample table on the ImageNet photos (:func:`xai.studies.run_setting`:
    finished shards are read back) and what the notebook shows of it: ``(table, scored,
    directions, sizes, empty)``, ``scored`` being :func:`with_subsets` of the table, ``sizes``
    the photos per subset and method, ``empty`` the empty counterfactual maps per method."""
    from .evaluation import higher_is_better

    table = studies.run_setting(results, "photos", profile, smoke, progress=not smoke,
                                study="class_specific")
    scored = with_subsets(table)
    directions = higher_is_better(scored)
    sizes = scored.groupby(["photos", "method"], sort=False)["sample"].nunique().unstack()
    empty = (table[table["metric"] == "counterfactual_empty"]
             .groupby("method", sort=False)["value"].agg(photos="size", empty="sum"))
    return table, scored, directions, sizes, empty


def imagenet_statistics(scored, directions, sizes, out, model_name: str) -> tuple:
    """Per subset: the summary (:func:`xai.stats.summarise`), the ranks
    (:func:`xai.stats.rank_table`, margin 0.0005) and the paired difference of the
    counterfactual map's and the top-1 map's IoU with the runner-up's map, written to
    ``imagenet_separation.csv``, ``_ranks.csv`` and ``.md`` in ``out``: ``(shown, rank_shown,
    against)``, the summary formatted, the ranks as a grid and the paired differences."""
    from . import stats
    from .studies.depth import rank_grid

    summary = stats.summarise(scored, directions, by=("photos",), seed=0)
    summary.to_csv(out / "imagenet_separation.csv", index=False, float_format="%.6g")
    shown = stats.format_summary(summary)
    # is the counterfactual map nearer the runner-up's map than the top-1 map itself is?
    against = stats.paired_rows(scored, [("counterfactual_iou", "top2_iou")],
                                by=("photos", "method"), seed=0)
    against = against[against["n"] > 0].drop(columns=["metric", "control"])
    ranks = stats.rank_table(scored, directions, by=("photos",), seed=0, margin=5e-4)
    ranks.to_csv(out / "imagenet_separation_ranks.csv", index=False)
    rank_shown = rank_grid(ranks, summary, ("photos", "method"))
    (out / "imagenet_separation.md").write_text(
        f"# Top-1 vs runner-up maps on the ImageNet photos ({model_name})\n\n"
        + stats.LEGEND + "\n\nPhotos per subset and method:\n\n"
        + sizes.reset_index().to_markdown(index=False) + "\n\n"
        + shown.to_markdown(index=False) + "\n\nRanks (paired intervals; = tied):\n\n"
        + rank_shown[list(directions)].reset_index().to_markdown(index=False)
        + "\n\nCounterfactual IoU minus top-1 map IoU with the runner-up's map, paired:\n\n"
        + against.to_markdown(index=False, floatfmt=".3f") + "\n")
    return shown, rank_shown, against


def distribution_figure(scored, methods, path=None):
    """The per-photo distributions (:func:`xai.viz.distributions`) of the top-1 and runner-up
    maps' IoU and rank correlation on all photos, one box per method of ``methods``; saved at
    ``path`` (90 dpi) if given."""
    from . import viz

    fig = viz.distributions(
        scored[scored["photos"] == "all"], ["top2_iou", "top2_rank_correlation"],
        methods=list(methods),
        title="Top-1 vs runner-up maps, per photo (box: quartiles; dot: mean)")
    if path is not None:
        viz.save(fig, path, dpi=90)
    return fig


#: a manifest's recipe {"study": "class_specific", ...} is rebuilt by :func:`class_setting`
studies.BUILDERS["class_specific"] = class_setting
