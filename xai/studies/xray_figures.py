"""The chest X-ray study's figures (notebook 05): the most confident X-rays of each group with
their maps, how strong the unscaled maps are, where the maps lie by region, and the feature
maps of each conv block for one normal and one pneumonia X-ray. The tables they
draw come from :mod:`xai.studies.xray`."""
from __future__ import annotations

import numpy as np


def group_figures(model, x, y, p, group, names, methods, layer, n_show: int, out) -> None:
    """For the false positives, true positives and true negatives, the ``n_show`` most confident
    X-rays (highest P(pneumonia); true negatives: lowest) with each method's map of the
    pneumonia logit at ``layer``: one figure per group, ``<out>/<group>s.png``."""
    from pathlib import Path

    from .. import explain, viz
    from ..data import XRAY_CLASSES

    for g, order in (("false positive", -p), ("true positive", -p), ("true negative", p)):
        idx = [i for i in np.argsort(order, kind="stable") if group[i] == g][:n_show]
        if not idx:
            continue
        shown = {m: explain(model, x[idx], method=m, layer=layer, target=1, progress=False)
                 for m in methods}
        rows = [[{"data": x[i], "title": f"{XRAY_CLASSES[y[i]].lower()}, p = {p[i]:.3f}"}]
                + [viz.overlay(x[i], shown[m][j]) for m in methods] for j, i in enumerate(idx)]
        viz.grid(rows, row_titles=[Path(names[i]).stem for i in idx],
                 col_titles=["X-ray", *methods],
                 suptitle=f"{g}s: maps of the pneumonia logit ({layer})", panel_size=2.2,
                 dpi=90, path=out / f"{g.replace(' ', '_')}s.png", overlay_colorbar=True)


def magnitude_figure(magnitude, layers, methods, path=None):
    """Each unscaled map's maximum, mean per group with its interval: one bar panel per layer
    (rows) and method (columns), each with its own scale; saved to ``path`` when given."""
    import matplotlib.pyplot as plt

    from .. import viz
    from .xray import XRAY_GROUPS

    groups = list(XRAY_GROUPS)
    fig, axes = plt.subplots(len(layers), len(methods), squeeze=False,
                             figsize=(2.9 * len(methods), 2.7 * len(layers)))
    for ax, ((lay, m), t) in zip(axes.flat, magnitude.groupby(["layer", "method"], sort=False)):
        t = t[t["maps"] > 0]
        ax.bar(range(len(t)), t["max"], color=[f"C{groups.index(g)}" for g in t["group"]],
               yerr=[t["max"] - t["max lo"], t["max hi"] - t["max"]], capsize=3)
        ax.set_xticks(range(len(t)), [g.replace(" ", "\n") for g in t["group"]], fontsize=7)
        ax.set_title(f"{m} ({lay})", fontsize=9)
    for ax in axes[:, 0]:
        ax.set_ylabel("unscaled map maximum", fontsize=8)
    fig.suptitle("Chest X-rays: how strong the pneumonia logit's maps are, before scaling "
                 "(mean, 95 % CI)", fontsize=10)
    fig.tight_layout()
    if path is not None:
        viz.save(fig, path)
    return fig


def region_figure(x, group, gradcam, region_table, layer, path=None):
    """The mean Grad-CAM ``gradcam`` (one map per X-ray, at ``layer``) of each outcome group
    over the group's mean X-ray, then both measures of :func:`region_statistics` for Grad-CAM
    at ``layer`` per region against the uniform map; saved to ``path`` when given."""
    import matplotlib.pyplot as plt

    from .. import viz
    from .xray import XRAY_GROUPS

    present = [g for g in XRAY_GROUPS if (group == g).any()]
    fig, axes = plt.subplots(1, len(present) + 2, figsize=(2.8 * (len(present) + 2), 3.3))
    for ax, g in zip(axes, present):
        ax.imshow(x[group == g].mean(axis=0))
        im = ax.imshow(gradcam[group == g].mean(axis=0), cmap=viz.MAP_CMAP, alpha=0.45,
                       vmin=0, vmax=1)
        ax.set_title(f"{g}s (n = {(group == g).sum()})\nmean Grad-CAM", fontsize=9)
        ax.axis("off")
    bar = fig.colorbar(im, ax=axes[len(present) - 1], fraction=0.046, pad=0.03)
    bar.set_label("mean Grad-CAM (0 = low, 1 = high)", fontsize=7)
    gc = region_table[(region_table["layer"] == layer) & (region_table["method"] == "gradcam")]
    for ax, measure in zip(axes[len(present):], ("mass share", "peak inside")):
        t = gc[gc["measure"] == measure].set_index("region")
        pos = np.arange(len(t))
        for k, g in enumerate(present):
            ax.bar(pos + (k - len(present) / 2 + 0.5) * 0.2, t[g], 0.2, label=g)
        ax.scatter(pos, t["area"], marker="_", s=700, color="grey", zorder=3, label="uniform map")
        ax.set_xticks(pos, t.index, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"{measure} (Grad-CAM)", fontsize=9)
    handles, labels = axes[-1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.suptitle(f"Chest X-rays: where the pneumonia logit's Grad-CAM lies ({layer})", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    if path is not None:
        viz.save(fig, path)
    return fig


def feature_map_figures(model, x, p, group, layers, n_channels: int, out, names=None) -> dict:
    """The feature maps of ``layers`` (first → last conv block, their ``n_channels`` strongest
    channels each) for the most confident true negative (lowest P(pneumonia)) and true positive
    (highest): ``<out>/feature_maps_normal.png`` and ``..._pneumonia.png``. Returns the index
    of the X-ray shown for each."""
    from pathlib import Path

    from .embeddings import feature_maps

    shown = {}
    for kind, g, order in (("normal", "true negative", p), ("pneumonia", "true positive", -p)):
        idx = [i for i in np.argsort(order, kind="stable") if group[i] == g]
        if not idx:
            continue
        i = shown[kind] = int(idx[0])
        label = Path(names[i]).stem if names is not None else f"X-ray {i}"
        feature_maps(model, x[i:i + 1], layers, n_channels, image=x[i],
                     path=Path(out) / f"feature_maps_{kind}.png",
                     title=f"{kind} X-ray {label} (P(pneumonia) = {p[i]:.3f}): the "
                           f"{n_channels} strongest channels of each conv block")
    return shown
