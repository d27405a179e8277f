"""Layer embeddings and feature-map grids for the study notebooks (03 MNIST-1D, 04 HMT, 05 chest
X-rays): a test set's representation at one layer projected to 2-D by PCA
(:func:`layer_embedding`), where its misclassified samples lie relative to the class clusters
(:func:`cluster_table`), and one sample's strongest feature maps layer by layer
(:func:`feature_maps`). The computing is :mod:`xai.representations`', the drawing
:mod:`xai.viz.representations`'."""
from __future__ import annotations

import numpy as np


def layer_embedding(model, x, y, pred, layer, class_names, path=None, title=None,
                    batch_size: int = 32, progress: bool = True, by_class: bool = True,
                    pool: str = "mean", label: str = ""):
    """The activations of ``layer`` for every sample of ``x``, global-average-pooled to one
    value per channel (``pool="flatten"``: every value) and projected on their first two
    principal components (:func:`xai.representations.embed`); the figure (coloured by true
    class ``y``; correct vs misclassified by ``pred``; its title starts with ``label``) is
    saved to ``path``.
    Returns ``(table, points, info)``: ``table`` from :func:`cluster_table`, ``info`` from
    :func:`xai.representations.embed` plus ``features`` (N, K) and ``layer``."""
    from .. import layers, representations, viz

    name = layers.resolve_layer(model, layer)[-1].name
    acts = representations.activations(model, x, layer, batch_size=batch_size, progress=progress)
    points, info = representations.embed(acts, "pca", 2, pool=pool)
    info = dict(info, features=representations.pool_features(acts, pool), layer=name)
    what = (f"mean activation per channel ({acts.shape[-1]} channels)" if pool == "mean"
            else f"all {info['features'].shape[1]} values")
    y, pred = np.asarray(y), np.asarray(pred)
    fig = viz.embedding_figure(points, y, y == pred, class_names, info=info,
                               title=title or f"{label}{name}: {len(y)} samples, {what}, PCA")
    if path is not None:
        viz.save(fig, path)
    table = cluster_table(points, info["features"], y, pred, class_names, name, by_class)
    return table, points, info


def cluster_table(points, features, y, pred, class_names, layer: str = "",
                  by_class: bool = True):
    """Where the correct and the misclassified samples lie: their number and the share whose
    nearest class centroid (the mean of all samples of a true class) is their own true class's,
    and the share nearest to the class they were predicted as — in the 2-D embedding and in the
    pooled features (all channels). One row per true class and outcome (``by_class=False``:
    one row per outcome, all classes together)."""
    import pandas as pd

    from ..representations import nearest_centroid

    y, pred = np.asarray(y), np.asarray(pred)
    near = {"2-D": nearest_centroid(points, y), "channels": nearest_centroid(features, y)}
    groups = ([(class_names[int(c)], y == c) for c in np.unique(y)] if by_class
              else [("all", np.ones(len(y), bool))])
    rows = []
    for name, members in groups:
        for outcome, sel in (("correct", members & (pred == y)),
                             ("misclassified", members & (pred != y))):
            row = {"layer": layer, "true class": name, "outcome": outcome, "n": int(sel.sum())}
            for space, n in near.items():
                row[f"nearest own class ({space})"] = _share(n[sel] == y[sel])
                row[f"nearest predicted class ({space})"] = _share(n[sel] == pred[sel])
            rows.append(row)
    return pd.DataFrame(rows)


def _share(hits) -> float:
    return float(np.mean(hits)) if len(hits) else np.nan


def feature_maps(model, x, layers, n_channels: int = 8, image=None, path=None, title=None):
    """:func:`xai.viz.feature_maps_figure` of one sample ``x`` (1, ...), saved to ``path``."""
    from .. import viz

    fig = viz.feature_maps_figure(model, x, layers, n_channels, image=image, title=title)
    if path is not None:
        viz.save(fig, path)
    return fig


def layer_embeddings(model, x, y, pred, layers, class_names, out, prefix: str = "embedding",
                     batch_size: int = 32, progress: bool = True, by_class: bool = True,
                     pools=None, label: str = ""):
    """:func:`layer_embedding` at each of ``layers``, the figures saved as
    ``<out>/<prefix>_<layer>.png``: ``(table, infos)``, the rows of every layer's
    :func:`cluster_table` (with each layer's explained variance of PC 1 and PC 2) and each
    layer's ``info`` by layer name. ``pools``: each layer's ``pool`` (default "mean")."""
    from pathlib import Path

    import pandas as pd

    tables, infos = [], {}
    pools = ["mean"] * len(layers) if pools is None else list(pools)
    if len(pools) != len(layers):
        raise ValueError(f"pools has {len(pools)} entries for {len(layers)} layers; give one "
                         "pool ('mean' or 'flatten') per layer, or None for 'mean' everywhere")
    for layer, pool in zip(layers, pools):
        path = Path(out) / f"{prefix}_{_layer_name(model, layer)}.png"
        table, _, info = layer_embedding(model, x, y, pred, layer, class_names, path,
                                         batch_size=batch_size, progress=progress,
                                         by_class=by_class, pool=pool, label=label)
        ratio = info["explained_variance_ratio"]
        tables.append(table.assign(**{"pool": pool, "PC 1 variance": ratio[0],
                                      "PC 2 variance": ratio[1]}))
        infos[info["layer"]] = info
    return pd.concat(tables, ignore_index=True), infos


def _layer_name(model, layer) -> str:
    from .. import layers

    return layers.resolve_layer(model, layer)[-1].name
