"""Notebook 06 on photos of several objects: how a CAM's mass splits between the objects'
hand-drawn boxes (:func:`xai.data.load_boxes`) at the first, middle and last layer.

Per photo, layer and method: the share of the map's mass inside each object's box and outside
all boxes (:func:`mass_split`, the energy-based pointing game of Wang et al. 2020, Score-CAM,
sec. 5.2, per box) and the box the map's peak falls in (:func:`peak_regions`, the pointing game
of Zhang et al. 2018 with no tolerance). :func:`object_study` runs it for notebook 06, writes
``depth_objects.csv`` / ``.md`` and draws the maps with the boxes (:func:`object_figures`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: the last column of :func:`mass_split` and :func:`peak_regions`, and its name in the tables
OUTSIDE = "outside all boxes"


def multi_object_photos(boxes: dict | None = None, min_objects: int = 2) -> list:
    """The photos of ``boxes`` (default :func:`xai.data.load_boxes`) with at least
    ``min_objects`` boxed objects, in the file's order: astronaut, cat_dog, collies,
    multiple_dogs, then four ImageNet samples (anemone fish and sea anemone; five cabs; a
    mortarboard and an academic gown; four warplanes)."""
    from .. import data

    boxes = data.load_boxes() if boxes is None else boxes
    return [name for name, entry in boxes.items() if len(entry["objects"]) >= min_objects]


def _unique(labels) -> list:
    """Labels made unique by numbering the repeated ones in order ("dog 1", "dog 2", ...)."""
    counts = {a: labels.count(a) for a in labels}
    seen: dict = {}
    out = []
    for a in labels:
        seen[a] = seen.get(a, 0) + 1
        out.append(f"{a} {seen[a]}" if counts[a] > 1 else a)
    return out


def crop_boxes(entry: dict, size) -> list:
    """The objects of one :func:`xai.data.load_boxes` entry on the photo's centred square
    (:func:`xai.data.centre_crop`: ``(h - s) // 2`` rows and ``(w - s) // 2`` columns cut
    before, s = min(h, w)) resized to ``size`` = (H, W), as notebook 06 feeds the photo to the
    model: ``[{"label", "classes", "box": (x0, y0, x1, y1)}, ...]``, boxes in pixels clipped
    to the square; an object entirely cut off is left out. Repeated labels are numbered
    ("dog 1", "dog 2")."""
    h, w = entry["height"], entry["width"]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    scale = np.array([size[1], size[0], size[1], size[0]], dtype=float) / s
    labels = _unique([o["label"] for o in entry["objects"]])
    out = []
    for label, o in zip(labels, entry["objects"]):
        x0, y0, x1, y1 = np.clip(np.asarray(o["box"], float) - [left, top, left, top], 0, s)
        if x1 > x0 and y1 > y0:
            box = tuple((np.array([x0, y0, x1, y1]) * scale).tolist())
            out.append({"label": label, "classes": list(o["classes"]), "box": box})
    return out


def object_masks(entry: dict, size) -> tuple:
    """``(objects, masks)``: the :func:`crop_boxes` of ``entry`` and their boxes as boolean
    masks (K, H, W) (:func:`xai.metrics.box_mask`)."""
    from .. import metrics

    objects = crop_boxes(entry, size)
    if not objects:
        raise ValueError("no box of this entry overlaps the photo's centred square; check its "
                         "width, height and boxes")
    return objects, np.stack([metrics.box_mask(size, o["box"]) for o in objects])


def _masks(maps, masks) -> tuple:
    m, r = np.asarray(maps), np.asarray(masks)
    if r.dtype != bool or r.ndim != 3 or m.ndim != 3 or r.shape[1:] != m.shape[1:]:
        raise ValueError(f"masks must be boolean (K, H, W) with (H, W) = the maps' "
                         f"{m.shape[1:]} (maps (N, H, W)), got {r.dtype} {r.shape}: build them "
                         "with xai.studies.depth_objects.object_masks")
    return m, r


def mass_split(maps, masks) -> np.ndarray:
    """Share of each map's mass inside each of the K boxes, then outside all of them:
    float64 (N, K + 1), column k = Σ_{p ∈ box k} L_p / Σ_p L_p (:func:`xai.metrics.energy_share`),
    the last column 1 − the share inside their union. Overlapping boxes both count the mass
    they share, so the K + 1 shares add up to 1 only when no boxes overlap."""
    from .. import metrics

    m, r = _masks(maps, masks)
    inside = [metrics.energy_share(m, k) for k in r]
    return np.stack([*inside, 1.0 - metrics.energy_share(m, r.any(axis=0))], axis=1)


def peak_regions(maps, masks) -> np.ndarray:
    """Whether each map's peak falls inside each of the K boxes, then outside all of them:
    bool (N, K + 1) (:func:`xai.metrics.pointing_game` with tolerance 0: among tied maxima the
    one closest to their centroid). A flat map has no peak: its row is all False."""
    from .. import metrics

    m, r = _masks(maps, masks)
    cols = [metrics.pointing_game(m, k, tolerance=0) for k in [*r, ~r.any(axis=0)]]
    return np.stack(cols, axis=1)


def object_table(model_name: str, photos, top1, maps: dict, boxes: dict) -> "pd.DataFrame":
    """The long table of :func:`mass_split` and :func:`peak_regions`: one row per photo,
    depth, method and region (each box, then :data:`OUTSIDE`), with the model's top-1
    ``class``, whether the object ``accepts_class`` (its ImageNet classes include it), the
    region's ``area`` (share of the pixels), the map's ``share`` in it and ``peak`` (the peak
    falls in it). ``maps[depth, method]`` (N, H, W) on ``photos`` (names, in order) as
    :func:`xai.studies.depth.depth_maps` gives them."""
    import pandas as pd

    from .. import imagenet

    names = imagenet.imagenet_class_names()
    rows = []
    for i, photo in enumerate(photos):
        objects, masks = object_masks(boxes[photo], next(iter(maps.values())).shape[1:])
        labels = [o["label"] for o in objects]
        accepts = [names[top1[i]] in o["classes"] for o in objects]
        area = [*masks.mean(axis=(1, 2)), 1 - masks.any(axis=0).mean()]
        for (d, m), v in maps.items():
            share, peak = mass_split(v[i:i + 1], masks)[0], peak_regions(v[i:i + 1], masks)[0]
            rows += [(model_name, photo, names[top1[i]], d, m, region, ok, a, s, p)
                     for region, ok, a, s, p in zip([*labels, OUTSIDE], [*accepts, False], area,
                                                    share, peak)]
    return pd.DataFrame(rows, columns=["model", "photo", "class", "depth", "method", "region",
                                       "accepts_class", "area", "share", "peak"])


def object_summary(table) -> "pd.DataFrame":
    """Per model, depth and method, over the photos: the mean share of the map in the boxes
    (1 − outside), the mean share of the pixels they cover, the mean share in the box holding
    the most mass, and on how many photos the peak falls in a box."""
    boxed = table[table["region"] != OUTSIDE]
    per_photo = boxed.groupby(["model", "depth", "method", "photo"], sort=False).agg(
        top_box=("share", "max"), peak=("peak", "any"))
    outside = table[table["region"] == OUTSIDE].set_index(
        ["model", "depth", "method", "photo"])[["share", "area"]]
    per_photo = per_photo.join(1 - outside).rename(columns={"share": "in_boxes",
                                                            "area": "box_area"})
    return per_photo.groupby(["model", "depth", "method"], sort=False).agg(
        photos=("peak", "size"), in_boxes=("in_boxes", "mean"), box_area=("box_area", "mean"),
        top_box=("top_box", "mean"), peak_in_box=("peak", "sum")).reset_index()


def share_table(table) -> "pd.DataFrame":
    """The shares as a grid: one row per model, photo and region (with its area), one column
    per ``"<depth> <method>"``."""
    keys = ["model", "photo", "region", "area"]
    t = table.assign(column=table["depth"] + " " + table["method"])
    grid = t.pivot(index=keys, columns="column", values="share")
    return grid.loc[t[keys].drop_duplicates().apply(tuple, axis=1),
                    t["column"].unique()].rename_axis(columns=None).reset_index()


def peak_table(table) -> "pd.DataFrame":
    """Where each map's peak falls: one row per model, photo and depth, one column per method,
    the region(s) holding the peak ("+" joins overlapping boxes; "none" for a flat map)."""
    t = table[table["peak"]].groupby(["model", "photo", "depth", "method"], sort=False)[
        "region"].agg("+".join)
    index = table.groupby(["model", "photo", "depth", "method"], sort=False).size().index
    return t.reindex(index, fill_value="none").unstack("method").reset_index()


def save_object_tables(table, out) -> tuple:
    """Write the long ``table`` as ``depth_objects.csv`` and its :func:`object_summary`,
    :func:`share_table` and :func:`peak_table` as ``depth_objects.md`` in ``out``; returns
    ``(summary, shares, peaks)``."""
    summary, shares, peaks = object_summary(table), share_table(table), peak_table(table)
    table.to_csv(out / "depth_objects.csv", index=False, float_format="%.6g")
    n = table["photo"].nunique()
    (out / "depth_objects.md").write_text(
        "# How CAMs split between objects, by depth\n\n"
        f"{n} photos with hand-drawn boxes of several objects (data/boxes.json), each explained "
        "for the model's top-1 class. Shares of the map's mass (maps ≥ 0, scaled to max 1, at "
        "the input size); overlapping boxes both count the mass they share. Few photos: no "
        "intervals.\n\n## Over the photos\n\n"
        "in_boxes: mean share of the mass inside the boxes; box_area: mean share of the pixels "
        "they cover; top_box: mean share in the box with the most mass; peak_in_box: photos "
        "whose peak falls in a box.\n\n" + summary.to_markdown(index=False, floatfmt=".3f")
        + "\n\n## Share per photo and region\n\n" + shares.to_markdown(index=False,
                                                                         floatfmt=".2f")
        + "\n\n## Where the peak falls\n\n" + peaks.to_markdown(index=False) + "\n")
    return summary, shares, peaks


def _peak(m: np.ndarray) -> tuple:
    """(row, column) of a map's peak as :func:`peak_regions` takes it: among tied maxima the
    one closest to their centroid (the first in row-major order when several are)."""
    top = np.argwhere(m == m.max())
    return tuple(top[np.argmin(np.linalg.norm(top - top.mean(axis=0), axis=1))])


def object_figure(name: str, images, photos, classes, maps, boxes, method: str, path=None):
    """Method ``method``'s maps (:func:`xai.viz.overlay`) on each photo (rows, with the
    explained ``classes``) at each layer (columns), the boxes drawn with the share of the mass
    each holds, the peak as a white x."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from .. import viz

    depths = list(dict.fromkeys(d for d, _ in maps))
    fig = viz.grid([[viz.overlay(images[i], maps[d, method][i]) for d in depths]
                    for i in range(len(photos))],
                   row_titles=[f"{p}\n(class {c})" for p, c in zip(photos, classes)],
                   col_titles=[f"{d} layer" for d in depths], panel_size=2.8, dpi=100,
                   suptitle=f"{name}, {method}: share of the map in each box, by layer")
    for i, photo in enumerate(photos):
        objects, masks = object_masks(boxes[photo], images.shape[1:3])
        for j, d in enumerate(depths):
            ax, v = fig.axes[i * len(depths) + j], maps[d, method][i:i + 1]
            ax.autoscale(False)  # the boxes and the peak must not widen the image's axes
            share = mass_split(v, masks)[0]
            for k, (x0, y0, x1, y1) in enumerate(o["box"] for o in objects):
                ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False,
                                       ec="white", lw=1.2))  # pixel edges are at ± 0.5
                ax.text(x0 + 1, y0 + 1 + 14 * (k % 2), f"{share[k]:.0%}", fontsize=7,
                        va="top", color="black", bbox={"fc": "white", "alpha": 0.8,
                                                       "pad": 0.5, "lw": 0})
            y, x = _peak(v[0])
            ax.plot(x, y, "x", color="white", ms=7, mew=2)
            ax.set_xlabel(f"outside all boxes: {share[-1]:.0%}", fontsize=9)
    fig.colorbar(plt.cm.ScalarMappable(cmap="jet"), ax=fig.axes, shrink=0.6, pad=0.02,
                 label="CAM (scaled to max 1)")
    if path is not None:
        viz.save(fig, path, dpi=100)
    return fig


def object_study(names, methods, profile: str, assets, out) -> dict:
    """Notebook 06 on :func:`multi_object_photos` for each architecture of ``names``: the maps
    (:func:`xai.studies.depth.depth_maps`), the table of all models (:func:`object_table`,
    saved by :func:`save_object_tables`) and one :func:`object_figure` per model and method,
    saved as ``<out>/<model>_objects_<method>.png``. Returns a dict of ``table``, ``summary``,
    ``shares``, ``peaks`` and ``figures``."""
    import pandas as pd

    from .. import data
    from .depth import depth_maps, depth_model, depth_photos

    boxes = data.load_boxes()
    photos = depth_photos(multi_object_photos(boxes), assets)
    tables, figures = [], []
    for name in names:
        zm = depth_model(name, profile)
        images, top1, maps, _ = depth_maps(zm, name, photos, methods)
        tables.append(object_table(zm.name, list(photos), top1, maps, boxes))
        classes = tables[-1].groupby("photo", sort=False)["class"].first().tolist()
        figures += [object_figure(zm.name, images, list(photos), classes, maps, boxes, m,
                                  out / f"{zm.name}_objects_{m}.png") for m in methods]
    table = pd.concat(tables, ignore_index=True)
    summary, shares, peaks = save_object_tables(table, out)
    return {"table": table, "summary": summary, "shares": shares, "peaks": peaks,
            "figures": figures}
