"""Figures of layer representations: feature-map grids and 2-D embeddings.

:func:`feature_maps_figure` shows, for one input, the strongest channels of several layers
(first → last block), and :func:`embedding_figure` a test set's 2-D embedding at one layer,
coloured by class and by correctness. The feature-map figure is the one place in
:mod:`xai.viz` that runs a model: it calls :func:`xai.representations.activations`.
"""
from __future__ import annotations

import numpy as np

_CLASS_COLOURS = "tab10"


def feature_maps_figure(model, x, layers, n_channels=8, image=None, title=None):
    """A grid of feature maps for ONE sample ``x`` (1, ...): one row per layer of ``layers``
    (first → last block), one column per channel among the layer's ``n_channels`` strongest
    (:func:`xai.representations.strongest_channels`), each titled with its channel index. A
    row shares one colour scale and one colour bar labelled "activation". ``image`` (the input
    as an image, or a 1-D signal) is drawn at the left of the first row. 1-D feature maps are
    drawn as one-row heat strips.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .. import layers as xlayers
    from .. import representations as rep

    x = np.asarray(x)
    if x.ndim < 2 or x.shape[0] != 1:
        raise ValueError(f"x must be ONE sample with its batch axis (1, ...), got shape {x.shape};"
                         " e.g. x[i:i + 1]")
    if isinstance(layers, (str, int)) or not len(layers):
        raise ValueError("layers must be a non-empty list of layers (names, indices or Layers)")
    rows = [(xlayers.resolve_layer(model, lyr)[-1].name,
             rep.activations(model, x, lyr, progress=False)[0]) for lyr in layers]
    left = image is not None
    ncols = n_channels + int(left)
    fig = plt.figure(figsize=(1.7 * ncols + 1.0, 1.8 * len(rows) + 0.6), layout="constrained")
    gs = fig.add_gridspec(len(rows), ncols)
    if left:
        _draw_input(fig.add_subplot(gs[0, 0]), image)
    for i, (name, acts) in enumerate(rows):
        _feature_row(fig, [fig.add_subplot(gs[i, j + int(left)]) for j in range(n_channels)],
                     name, acts, rep.strongest_channels(acts, n_channels))
    if title:
        fig.suptitle(title)
    return fig


def _draw_input(ax, image):
    img = np.asarray(image)
    img = (img / 255.0 if img.dtype == np.uint8 else img).astype(np.float32)  # uint8 photos too
    if img.ndim == 1 or (img.ndim == 2 and img.shape[-1] == 1):
        ax.plot(img.ravel(), lw=0.8, color="k")
        ax.set_xlabel("position", fontsize=7)
        ax.tick_params(labelsize=6)
    else:
        ax.imshow(img.squeeze(), cmap="gray" if img.squeeze().ndim == 2 else None)
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_title("input", fontsize=9)


def _feature_row(fig, axes, name, acts, channels):
    """One layer's strongest channels on a shared scale, with a colour bar."""
    maps = [acts[..., k] for k in channels]
    lo = float(min(m.min() for m in maps))
    hi = float(max(m.max() for m in maps))
    hi = hi if hi > lo else lo + 1.0
    im = None
    for ax, k, m in zip(axes, channels, maps):
        data = m[None, :] if m.ndim == 1 else m
        im = ax.imshow(data, cmap="viridis", vmin=lo, vmax=hi, aspect="auto"
                       if m.ndim == 1 else "equal", interpolation="nearest")
        ax.set_title(f"ch {int(k)}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(maps):]:
        ax.set_axis_off()
    axes[0].set_ylabel(f"{name}\n{'×'.join(str(s) for s in acts.shape)}", fontsize=8)
    fig.colorbar(im, ax=axes, shrink=0.9, pad=0.01).set_label("activation", fontsize=8)


def _axis_labels(ax, info, dims):
    ratio = (info or {}).get("explained_variance_ratio")
    for j, setter in zip(range(dims), (ax.set_xlabel, ax.set_ylabel)):
        setter(f"PC {j + 1} ({100 * ratio[j]:.1f} % variance)" if ratio is not None
               else f"component {j + 1}")


def embedding_figure(points, labels, correct, class_names=None, title=None, info=None):
    """Two scatter panels of a 2-D embedding (e.g. :func:`xai.representations.embed`): the
    points coloured by true class (legend: class names and counts), and correct (grey dots)
    against misclassified (crosses in the true class's colour; legend with counts). Axes read
    "PC k (x % variance)" when ``info`` has ``explained_variance_ratio``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    p = np.asarray(points, dtype=np.float64)
    y = np.asarray(labels)
    ok = np.asarray(correct, dtype=bool)
    if p.ndim != 2 or p.shape[1] != 2 or y.shape != (len(p),) or ok.shape != (len(p),):
        raise ValueError(f"points must be (N, 2) with labels and correct (N,), got {p.shape}, "
                         f"{y.shape} and {ok.shape}; embed with n_components=2")
    classes = np.unique(y)
    names = {c: (class_names[int(c)] if class_names is not None else str(c)) for c in classes}
    cmap = plt.get_cmap(_CLASS_COLOURS)
    colour = {c: cmap(i % cmap.N) for i, c in enumerate(classes)}
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
    for c in classes:
        sel = y == c
        a.scatter(p[sel, 0], p[sel, 1], s=10, alpha=0.7, color=colour[c],
                  label=f"{names[c]} (n={sel.sum()})")
    b.scatter(p[ok, 0], p[ok, 1], s=8, alpha=0.35, color="0.6", label=f"correct (n={ok.sum()})")
    for c in classes:
        sel = ~ok & (y == c)
        if not sel.any():
            continue
        b.scatter(p[sel, 0], p[sel, 1], s=28, marker="x", color=colour[c], linewidths=1.2,
                  label=f"misclassified, true {names[c]} (n={sel.sum()})")
    a.set_title("coloured by true class")
    b.set_title(f"correct vs misclassified ({(~ok).sum()} of {len(ok)} wrong)")
    for ax in (a, b):
        _axis_labels(ax, info, 2)
        ax.legend(fontsize=7, loc="best", markerscale=1.5)
    if title:
        fig.suptitle(title)
    return fig
