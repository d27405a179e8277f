"""The depth study (notebook 06): CAMs at the first, middle and last layer of a network
(:func:`depth_model`, :func:`depth_setting`, :data:`DEPTH_METHODS`), its figures of the maps
at each layer (:func:`depth_figures`), its table with the layer as a column (:func:`by_depth`,
:func:`depth_table`), its statistics (:func:`depth_summary`, :func:`depth_ranks`) and their
figure (:func:`faithfulness_figures`)."""
from __future__ import annotations

from .evaluation import metric_options_for
from .photos import imagenet_source

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
    from .. import models

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
    from .. import models

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


def depth_photos(show, assets) -> dict:
    """The photos of ``show`` that exist, by name, in the order asked: scikit-image's samples
    (:func:`xai.data.sample_images`), the ``images/*.jpg`` and ``*.png`` of the offline
    ``assets`` and the ImageNet samples ``imagenet_samples/<name>.jpg`` (name = file stem)."""
    from .. import data

    photos = data.sample_images()
    photos.update({p.stem: data.load_image(p) for p in sorted((assets / "images").glob("*"))
                   if p.suffix in (".jpg", ".png")})
    samples = {s: assets / "imagenet_samples" / f"{s}.jpg" for s in show if s not in photos}
    photos.update({s: data.load_image(p) for s, p in samples.items() if p.is_file()})
    return {s: photos[s] for s in show if s in photos}


def depth_inputs(zm, photos: dict) -> tuple:
    """``(images, x)``: the centre square of each photo resized with area interpolation to
    ``zm``'s input (uint8 (N, H, W, 3)), and the model's preprocessed input."""
    from .. import data, viz

    images = viz.resize([data.centre_crop(p) for p in photos.values()], zm.input_size, "area")
    return images, zm.preprocess(images)


def depth_maps(zm, name: str, photos: dict, methods) -> tuple:
    """Each of ``methods`` at each layer of :func:`xai.models.depth_layers` on the centre square
    of each photo (resized with area interpolation to ``zm``'s input), for the model's top-1
    class: ``(images, top1, maps, sizes)`` with ``maps[depth, method]`` (N, H, W) and
    ``sizes[depth]`` the layer's feature-map size."""
    from .. import explain, models

    depth = models.depth_layers(name)
    images, x = depth_inputs(zm, photos)
    top1 = zm.model.predict(x, verbose=0).argmax(axis=1)
    maps = {(d, m): explain(zm.model, x, method=m, layer=layer, target=top1, progress=False)
            for d, layer in depth.items() for m in methods}
    sizes = {d: zm.model.get_layer(layer).output.shape[1:3] for d, layer in depth.items()}
    return images, top1, maps, sizes


def depth_figures(name: str, photos: dict, methods, profile: str, out) -> list:
    """One figure per photo of architecture ``name`` (:func:`depth_maps`): rows = layers with
    their feature-map size, columns = the photo and each method's map over it; saved as
    ``<out>/<model>_<photo>.png``. Returns the figures (not shown)."""
    from .. import imagenet, models, viz

    zm = depth_model(name, profile)
    depth = models.depth_layers(name)
    images, top1, maps, sizes = depth_maps(zm, name, photos, methods)
    figures = []
    for i, photo in enumerate(photos):
        figures.append(viz.grid(
            [[images[i]] + [viz.overlay(images[i], maps[d, m][i]) for m in methods]
             for d in depth],
            row_titles=[f"{d}: {layer}\n{sizes[d][0]} × {sizes[d][1]}"
                        for d, layer in depth.items()],
            col_titles=["photo", *methods], panel_size=2.2, dpi=90,
            suptitle=f"{zm.name}, {photo}: CAMs at three depths (class "
                     f"{imagenet.imagenet_class_names()[top1[i]]})",
            path=out / f"{zm.name}_{photo}.png", overlay_colorbar=True))
    return figures


def feature_maps(name: str, photo: str, assets, profile: str, out, n_channels: int = 8):
    """The feature maps of ``photo`` (:func:`depth_photos`; its centre square, as
    :func:`depth_inputs`) at the layers of
    :func:`xai.models.depth_layers` of architecture ``name``, first → last
    (:func:`xai.viz.feature_maps_figure`: rows = layers, columns = the ``n_channels`` channels
    of highest mean activation), saved as ``<out>/<model>_feature_maps_<photo>.png``."""
    from .. import models, viz

    zm = depth_model(name, profile)
    photos = depth_photos([photo], assets)
    if not photos:
        raise ValueError(f"no photo {photo!r} among scikit-image's samples and the images/ and "
                         f"imagenet_samples/ of {assets}")
    images, x = depth_inputs(zm, photos)
    fig = viz.feature_maps_figure(
        zm.model, x, list(models.depth_layers(name).values()), n_channels,
        image=images[0],
        title=f"{zm.name}, {photo}: the {n_channels} strongest channels (highest mean "
              "activation) of the first, middle and last layer")
    viz.save(fig, out / f"{zm.name}_feature_maps_{photo}.png", dpi=90)
    return fig


def depth_table(results, names, profile: str = "offline", smoke: bool = False) -> tuple:
    """The per-sample tables of the architectures ``names`` (:func:`xai.studies.run_setting`,
    study "depth": finished shards are read back), as ``(table, layered, sizes)``: the table
    with a ``model`` column, :func:`by_depth` of it, and the photos per model, layer and
    method."""
    import pandas as pd

    from .runs import run_setting

    table = pd.concat([run_setting(results, name, profile, smoke, progress=not smoke,
                                   study="depth")
                       for name in names], ignore_index=True).rename(columns={"setting": "model"})
    layered = by_depth(table)
    sizes = layered.groupby(["model", "depth", "method"], sort=False)["sample"].nunique().unstack()
    return table, layered, sizes


def depth_summary(layered, sizes, out, seed: int = 0) -> tuple:
    """:func:`xai.stats.summarise` per model and layer, written to ``depth_faithfulness.csv``
    and ``.md`` in ``out`` (with the legend and the photos per cell): ``(directions, summary,
    shown)``, ``shown`` being :func:`xai.stats.format_summary` of the summary."""
    from .. import evaluation, stats

    directions = evaluation.higher_is_better(layered)
    summary = stats.summarise(layered, directions, by=("model", "depth"), seed=seed)
    summary.to_csv(out / "depth_faithfulness.csv", index=False, float_format="%.6g")
    shown = stats.format_summary(summary)
    (out / "depth_faithfulness.md").write_text(
        "# Faithfulness of CAMs by depth\n\n" + stats.LEGEND + "\n\nPhotos per model, layer and "
        "method:\n\n" + sizes.reset_index().to_markdown(index=False) + "\n\n"
        + shown.to_markdown(index=False) + "\n")
    return directions, summary, shown


def marked_ranks(ranks):
    """A :func:`xai.stats.rank_table` with its ``rank`` as text, ``=`` marking a shared rank."""
    import numpy as np

    return ranks.assign(rank=ranks["rank"].astype(str) + np.where(ranks["tied"], "=", ""))


def rank_grid(ranks, summary, keys):
    """:func:`marked_ranks` as a grid: one row per ``keys`` (in the summary's order), one
    column per metric."""
    import pandas as pd

    return marked_ranks(ranks).pivot(index=list(keys), columns="metric", values="rank").reindex(
        pd.MultiIndex.from_frame(summary[list(keys)].drop_duplicates()))


def depth_ranks(table, layered, summary, directions, out, seed: int = 0) -> tuple:
    """The ranks within each model and layer and across a model's 15 maps
    (:func:`xai.stats.rank_table`, margin 0.0005), written to ``depth_ranks.csv`` and
    ``depth_ranks_overall.csv`` in ``out``: ``(rank_shown, overall_shown)``, the first a grid
    (:func:`rank_grid`), the second the deletion and insertion rows of the overall ranks."""
    from .. import stats

    ranks = stats.rank_table(layered, directions, by=("model", "depth"), seed=seed, margin=5e-4)
    overall = stats.rank_table(table, directions, by=("model",), seed=seed, margin=5e-4)
    ranks.to_csv(out / "depth_ranks.csv", index=False)
    overall.to_csv(out / "depth_ranks_overall.csv", index=False)
    rank_shown = rank_grid(ranks, summary, ("model", "depth", "method"))
    overall_shown = marked_ranks(overall[overall["metric"].isin(["deletion", "insertion"])])
    return rank_shown, overall_shown


def _faithfulness_panel(ax, s, methods) -> None:
    """One metric's panel: each method's mean and interval per layer (dodged a little), the
    random and the constant map as grey lines with their intervals shaded."""
    import numpy as np

    for k, m in enumerate(methods):
        r = s[s["method"] == m]
        at = np.arange(len(r)) + 0.06 * (k - (len(methods) - 1) / 2)
        ax.errorbar(at, r["mean"], yerr=[r["mean"] - r["lo"], r["hi"] - r["mean"]],
                    marker="o", ms=4, capsize=2, label=m)
    for b, style in (("random", "--"), ("constant", ":")):
        r = s[s["method"] == b].iloc[0]  # the same photos under every layer
        ax.axhline(r["mean"], color="grey", ls=style, label=f"{b} map")
        ax.axhspan(r["lo"], r["hi"], color="grey", alpha=0.15)
    ax.set_xticks(range(s["depth"].nunique()), s["depth"].unique())


def faithfulness_figure(name: str, t, directions, methods, panels):
    """Model ``name``'s summary rows ``t`` as one panel per metric of ``panels``
    (:func:`_faithfulness_panel`), the legend right of the last one."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 3.4))
    for ax, metric in zip(axes, panels):
        _faithfulness_panel(ax, t[t["metric"] == metric], methods)
        ax.set_title(f"{metric} ({'higher' if directions[metric] else 'lower'} is better)",
                     fontsize=9)
        ax.set_xlabel("layer")
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(f"{name}: faithfulness of CAMs by depth ({t['n'].max()} photos; mean and "
                 "95 % interval)", fontsize=10)
    fig.tight_layout()
    return fig


def faithfulness_figures(summary, directions, methods, out,
                         panels=("deletion", "insertion", "drop", "increase")) -> list:
    """Per model of the :func:`depth_summary`, its :func:`faithfulness_figure` (each method of
    ``methods`` per layer against the random and the constant map), saved as
    ``<out>/<model>_faithfulness.png``. Returns the figures (not shown)."""
    from .. import viz

    figures = []
    for name, t in summary.groupby("model", sort=False):
        figures.append(faithfulness_figure(name, t, directions, methods, list(panels)))
        viz.save(figures[-1], out / f"{name}_faithfulness.png")
    return figures
