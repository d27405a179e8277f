"""Drawing: colormap overlays (OpenCV), diverging attribution maps, figure grids, 1-D strips.

This module only draws what other modules computed; it never runs a model. Figures are made with
``matplotlib.pyplot``, so they show inline in Jupyter; in a script with no display matplotlib
falls back to its "Agg" backend by itself (the backend is never forced here). :func:`save` writes
a figure to disk, creating the folders on the way.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["overlay", "attribution_to_map", "display_map", "resize", "diverging", "grid",
           "signal_strip", "save", "sanity_figure", "distributions",
           "DIVERGING_CMAP", "MAP_CMAP"]

#: default colormap of signed attributions (blue < 0 < red, white at 0)
DIVERGING_CMAP = "RdBu_r"
#: default colormap of non-negative maps (CAMs)
MAP_CMAP = "jet"

_REDUCTIONS = ("sum", "abs_sum", "max_abs")


# --------------------------------------------------------------------------- arrays
def _as_uint8_image(image) -> np.ndarray:
    """uint8 RGB (H, W, 3) from uint8, float in [0, 1] or float in [0, 255]; gray -> RGB."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3 or img.shape[-1] not in (1, 3, 4):
        raise ValueError(f"image must be (H, W, 3) RGB (or (H, W) gray), got shape {img.shape}")
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    img = img[..., :3]
    if img.dtype == np.uint8:
        return img
    img = np.nan_to_num(img.astype(np.float32))
    if img.max(initial=0.0) <= 1.0:
        img = img * 255.0
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _unit_map(cam_map) -> np.ndarray:
    m = np.nan_to_num(np.asarray(cam_map, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.ndim != 2:
        raise ValueError(f"cam_map must be one 2-D map (H, W), got shape {m.shape}")
    return np.clip(m, 0.0, 1.0)


def resize(images, size, interpolation="linear"):
    """Resize images or maps to ``size`` for display or batching.

    Parameters
    ----------
    images : array (H, W), (H, W, C), (N, H, W[, C]) or a list of arrays of different sizes
        A list (or tuple) is treated as a batch of separate images or maps.
    size : int or (H, W)
    interpolation : {"linear", "area", "nearest", "cubic"}

    Returns
    -------
    np.ndarray
        Same dtype; a list input gives one stacked (N, H, W[, C]) array.
    """
    import cv2

    flags = {"linear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA, "nearest": cv2.INTER_NEAREST,
             "cubic": cv2.INTER_CUBIC}
    if interpolation not in flags:
        raise ValueError(f"interpolation must be one of {tuple(flags)}, got {interpolation!r}")
    h, w = (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))
    if isinstance(images, (list, tuple)):
        return np.stack([resize(im, (h, w), interpolation) for im in images])
    a = np.asarray(images)
    if a.ndim == 4 or (a.ndim == 3 and a.shape[-1] not in (1, 3, 4)):  # a batch
        return np.stack([resize(im, (h, w), interpolation) for im in a])
    if a.shape[:2] == (h, w):
        return a.copy()
    dtype = a.dtype
    src = a.astype(np.float32) if a.dtype not in (np.uint8, np.float32) else a
    out = cv2.resize(src, (w, h), interpolation=flags[interpolation])
    if a.ndim == 3 and out.ndim == 2:  # OpenCV drops a single channel axis
        out = out[..., None]
    return out.astype(dtype, copy=False)


def overlay(image_uint8, cam_map, cmap=MAP_CMAP, alpha=0.4):
    """Blend a CAM's colormap over an image.

    ``out = (1 - alpha) * image + alpha * colormap(map)``, with OpenCV's ``applyColorMap``.

    Parameters
    ----------
    image_uint8 : array (H, W, 3)
        RGB image, uint8 (floats in [0, 1] or [0, 255] are converted).
    cam_map : array (h, w)
        Map in [0, 1] (clipped; NaN -> 0). Resized bilinearly to (H, W) if needed.
    cmap : str
        An OpenCV colormap name: "jet", "turbo", "inferno", "viridis", "hot", "magma", ...
    alpha : float in [0, 1]
        Weight of the colormap.

    Returns
    -------
    np.ndarray
        uint8 RGB (H, W, 3).
    """
    import cv2

    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    img = _as_uint8_image(image_uint8)
    m = _unit_map(cam_map)
    if m.shape != img.shape[:2]:
        m = np.clip(resize(m, img.shape[:2]), 0.0, 1.0)
    code = getattr(cv2, f"COLORMAP_{str(cmap).upper()}", None)
    if code is None:
        names = sorted(n[9:].lower() for n in dir(cv2) if n.startswith("COLORMAP_"))
        raise ValueError(f"unknown OpenCV colormap {cmap!r}; choose one of {', '.join(names)}")
    heat = cv2.applyColorMap(np.rint(m * 255.0).astype(np.uint8), code)[..., ::-1]  # BGR -> RGB
    out = (1.0 - alpha) * img.astype(np.float32) + alpha * heat.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def attribution_to_map(attr, reduce="sum"):
    """Collapse the channel axis of attributions into one map per sample.

    Parameters
    ----------
    attr : array (N, H, W, C) (or any shape with channels last, e.g. (N, T, C))
    reduce : {"sum", "abs_sum", "max_abs"}
        "sum": signed Σ_c a (keeps IG's completeness); "abs_sum": Σ_c |a|;
        "max_abs": max_c |a|. The last two are non-negative.

    Returns
    -------
    np.ndarray
        float32 (N, H, W).
    """
    if reduce not in _REDUCTIONS:
        raise ValueError(f"reduce must be one of {_REDUCTIONS}, got {reduce!r}")
    a = np.asarray(attr, dtype=np.float32)
    if a.ndim < 2:
        raise ValueError(f"attr must have a channel axis last, e.g. (N, H, W, C); got {a.shape}")
    if reduce == "sum":
        return a.sum(-1, dtype=np.float32)
    if reduce == "abs_sum":
        return np.abs(a).sum(-1, dtype=np.float32)
    return np.abs(a).max(-1)


def display_map(result, returns="map", percentile=99.0):
    """What to show of any method's result: one map per sample in [0, 1], for :func:`overlay`
    (the command line, the demo and the widgets all use this).

    Parameters
    ----------
    result : array (N, H, W) / (N, T) for a map, or the input's shape for an attribution
    returns : {"map", "attribution"}
        What the method returns (``xai.METHODS[name].returns``). A map (CAMs, RISE, SISE) is
        shown as it is, clipped to [0, 1]. An attribution is reduced to Σ_c |a| and divided by
        its ``percentile`` per sample, so that a small attribution (guided backprop peaks near
        1e-3) still spans the colour range; the few pixels above it saturate.
    percentile : float in (0, 100]
        100 divides by the maximum. An all-zero map stays zero.

    Returns
    -------
    np.ndarray
        float32 (N, H, W) / (N, T) in [0, 1]; NaN and ±inf show as 0.
    """
    if returns not in ("map", "attribution"):
        raise ValueError(f"returns must be 'map' or 'attribution', got {returns!r}")
    if not 0.0 < float(percentile) <= 100.0:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    a = np.asarray(result, dtype=np.float32)
    if returns == "attribution":
        a = attribution_to_map(a, "abs_sum")
        a = np.stack([m / _symmetric_limit(m, percentile) for m in a]) if len(a) else a
    a = np.where(np.isfinite(a), a, 0.0)
    return np.clip(a, 0.0, 1.0).astype(np.float32)


def _symmetric_limit(a, percentile=None) -> float:
    """max|a| (or its ``percentile``); 1 for an all-zero map, which then shows as white."""
    a = np.abs(np.asarray(a, dtype=np.float32))
    a = a[np.isfinite(a)]
    if not a.size:
        return 1.0
    m = float(a.max() if percentile is None else np.percentile(a, percentile))
    if not m > 0:  # e.g. a sparse map whose percentile is 0: fall back to the max
        m = float(a.max())
    return m if m > 0 else 1.0


def _colorbar(ax, im):
    return ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.03)


# --------------------------------------------------------------------------- drawing
def diverging(ax, attr2d, title=None, cmap=DIVERGING_CMAP, colorbar=True, vmax=None,
              percentile=None, vmin=None):
    """Show a signed 2-D map centred at 0 with a symmetric range ±max|a|.

    Parameters
    ----------
    ax : matplotlib Axes
    attr2d : array (H, W)
        Signed map (e.g. ``attribution_to_map(ig)[i]``).
    title : str, optional
    cmap : str
        A diverging matplotlib colormap ("RdBu_r", "bwr", "seismic"): white at 0.
    colorbar : bool
    vmax : float, optional
        Use ±vmax instead of ±max|a| (to share a scale between panels).
    percentile : float, optional
        Use ±(this percentile of |a|), e.g. 99.5, so that a few extreme pixels do not wash
        out the rest (those saturate). The range stays symmetric about 0.
    vmin : float < 0, optional
        Show only [vmin, vmax] (vmin ≥ −vmax) of the symmetric scale, for maps whose values
        cannot reach −vmax, e.g. the indirect overlay's [−(1 − α), 1]: a value keeps the
        colour it has on the ±vmax scale (white at 0), and the colorbar covers only what the
        map can take.

    Returns
    -------
    matplotlib.image.AxesImage
    """
    a = np.asarray(attr2d, dtype=np.float32)
    if a.ndim != 2:
        raise ValueError(f"attr2d must be 2-D (H, W), got shape {a.shape}; reduce channels "
                         "with attribution_to_map first")
    v = _symmetric_limit(a, percentile) if vmax is None else float(vmax)
    if not v > 0:
        raise ValueError(f"vmax must be positive, got {vmax}")
    if vmin is None:
        im = ax.imshow(a, cmap=cmap, vmin=-v, vmax=v, interpolation="nearest")
    elif not vmin < 0:
        raise ValueError(f"vmin must be negative (white stays at 0), got {vmin}")
    else:  # the part of the ±v colormap that [vmin, v] covers: same colour for same value
        import matplotlib
        from matplotlib.colors import ListedColormap
        full = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
        part = ListedColormap(full(np.linspace(0.5 - 0.5 * min(-vmin, v) / v, 1.0, 256)))
        im = ax.imshow(a, cmap=part, vmin=max(float(vmin), -v), vmax=v, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        cb = _colorbar(ax, im)
        cb.ax.tick_params(labelsize=7)
    return im


def _panel(panel):
    """A grid panel as a dict {data, kind, title, cmap}."""
    if panel is None:
        return None
    if isinstance(panel, dict):
        if "data" not in panel:
            raise ValueError(f"a panel dict needs a 'data' entry, got keys {sorted(panel)}")
        p = dict(panel)
    else:
        p = {"data": panel}
    data = np.asarray(p["data"])
    p["data"] = data
    if "kind" not in p:
        if data.ndim == 3 and data.shape[-1] in (3, 4):
            p["kind"] = "rgb"
        elif data.ndim == 2:
            p["kind"] = "diverging" if np.nanmin(data, initial=0.0) < 0 else "map"
        else:
            raise ValueError(f"a panel must be an RGB image (H, W, 3) or a 2-D map, got {data.shape}")
    if p["kind"] not in ("rgb", "map", "diverging"):
        raise ValueError(f"panel kind must be 'rgb', 'map' or 'diverging', got {p['kind']!r}")
    return p


def grid(rows_of_panels, row_titles=None, col_titles=None, path=None, panel_size=2.4,
         suptitle=None, dpi=120):
    """A figure of images and maps, one row per list.

    Parameters
    ----------
    rows_of_panels : list of lists
        Each panel is an array -- RGB (H, W, 3) shown as is, a 2-D map shown with "jet" on
        [0, max(1, max)] or, if it has negative values, with :func:`diverging` -- or a dict
        ``{"data": array, "title": str, "kind": "rgb" | "map" | "diverging", "cmap": str,
        "colorbar": bool, "vmax": float, "vmin": float, "percentile": float}`` (the last
        three as in :func:`diverging`), or None for an empty cell. Rows may have different lengths.
    row_titles, col_titles : list of str, optional
        Written left of each row and above each column.
    path : str or Path, optional
        If given, the figure is saved there with :func:`save` (PNG, ``dpi``, tight box).
    panel_size : float
        Inches per panel.
    suptitle : str, optional
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    rows = [[_panel(p) for p in row] for row in rows_of_panels]
    if not rows or not any(rows):
        raise ValueError("grid needs at least one row with one panel")
    nrows, ncols = len(rows), max(len(r) for r in rows)
    for what, titles, n in (("row_titles", row_titles, nrows), ("col_titles", col_titles, ncols)):
        if titles is not None and len(titles) != n:
            raise ValueError(f"{what} has {len(titles)} entries for {n} {what[:3]}s")
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols, panel_size * nrows),
                             squeeze=False, dpi=dpi)
    for i, row in enumerate(rows):
        for j in range(ncols):
            ax = axes[i, j]
            p = row[j] if j < len(row) else None
            ax.set_xticks([])
            ax.set_yticks([])
            title = p.get("title") if p else None
            if i == 0 and col_titles is not None and col_titles[j]:
                title = f"{col_titles[j]}\n{title}" if title else col_titles[j]
            if p is None:
                for side in ax.spines.values():
                    side.set_visible(False)
            elif p["kind"] == "rgb":
                ax.imshow(_as_uint8_image(p["data"]))
            elif p["kind"] == "diverging":
                diverging(ax, p["data"], cmap=p.get("cmap", DIVERGING_CMAP),
                          colorbar=p.get("colorbar", True), vmax=p.get("vmax"),
                          percentile=p.get("percentile"), vmin=p.get("vmin"))
            else:
                d = np.asarray(p["data"], dtype=np.float32)
                im = ax.imshow(d, cmap=p.get("cmap", MAP_CMAP), vmin=0.0,
                               vmax=max(1.0, float(np.nanmax(d, initial=0.0))))
                if p.get("colorbar", False):
                    _colorbar(ax, im).ax.tick_params(labelsize=7)
            if title:
                ax.set_title(title, fontsize=9)
            if j == 0 and row_titles is not None and row_titles[i]:
                ax.set_ylabel(row_titles[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    if path is not None:
        save(fig, path, dpi=dpi)
    return fig


def signal_strip(ax, signal_1d, map_1d, title=None, cmap=None, strip=True, colorbar=True):
    """Draw a 1-D signal as a line coloured by an explanation map, with a heat strip under it.

    Parameters
    ----------
    ax : matplotlib Axes
    signal_1d : array (T,) or (T, 1)
    map_1d : array (T,) or (T, 1)
        Non-negative maps (CAMs, RISE) use "jet" on [0, max]; signed ones (IG) a diverging
        colormap on ±max|a|.
    title : str, optional
    cmap : str, optional
        Overrides the colormap.
    strip : bool
        Also draw the map as a band of colour under the signal.
    colorbar : bool

    Returns
    -------
    matplotlib.collections.LineCollection
    """
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    s = np.asarray(signal_1d, dtype=np.float32).squeeze()
    m = np.nan_to_num(np.asarray(map_1d, dtype=np.float32).squeeze())
    if s.ndim != 1 or m.ndim != 1:
        raise ValueError(f"signal and map must be 1-D (T,), got {s.shape} and {m.shape}")
    if len(m) != len(s):
        raise ValueError(f"map has {len(m)} points for a signal of {len(s)}; upsample the map "
                         "to the signal length first")
    t = np.arange(len(s), dtype=np.float32)
    if m.min(initial=0.0) < 0:
        v = _symmetric_limit(m)
        norm, cmap = Normalize(-v, v), cmap or DIVERGING_CMAP
    else:
        norm, cmap = Normalize(0.0, _symmetric_limit(m)), cmap or MAP_CMAP
    # one segment per sample point, centred on it, coloured by the map there
    mid = np.concatenate([[t[0]], (t[1:] + t[:-1]) / 2, [t[-1]]])
    smid = np.interp(mid, t, s)
    segs = [np.array([[mid[k], smid[k]], [t[k], s[k]], [mid[k + 1], smid[k + 1]]])
            for k in range(len(s))]
    lc = LineCollection(segs, cmap=cmap, norm=norm, linewidths=2.5)
    lc.set_array(m)
    ax.add_collection(lc)
    lo, hi = float(s.min()), float(s.max())
    pad = 0.1 * (hi - lo or 1.0)
    ymin = lo - pad
    if strip:
        band = 0.25 * (hi - lo or 1.0)
        ax.imshow(m[None, :], aspect="auto", cmap=cmap, norm=norm,
                  extent=(-0.5, len(s) - 0.5, lo - pad - band, lo - pad))
        ymin = lo - pad - band
    ax.set_xlim(-0.5, len(s) - 0.5)
    ax.set_ylim(ymin, hi + pad)
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        _colorbar(ax, lc).ax.tick_params(labelsize=7)
    return lc


def _error_bars(table, column):
    """(2, n) distances from ``column`` to its ``_lo`` / ``_hi`` interval, or None without."""
    if f"{column}_lo" not in table:
        return None
    return np.stack([table[column] - table[f"{column}_lo"], table[f"{column}_hi"] - table[column]])


def faithfulness_figure(result, unit="points", title=None):
    """Average Drop and Increase against the fraction kept, and deletion / insertion AUC bars:
    one row of three panels per value of the first key column of an
    :class:`xai.metrics.Faithfulness` (e.g. one row per model), a dashed grey "random" line.
    When the result has bootstrap intervals (``faithfulness(..., ci=0.95)``) they are drawn as
    error bars (the lines' points are shifted slightly sideways so that the bars do not hide
    each other)."""
    import matplotlib.pyplot as plt
    keys = result.keys()
    group = keys[0] if len(keys) > 1 else None
    names = list(dict.fromkeys(result.auc[group])) if group else [None]
    fig, axes = plt.subplots(len(names), 3, figsize=(15, 3.8 * len(names)), squeeze=False)
    for row, name in zip(axes, names):
        part, auc = result.drop_increase, result.auc
        if group:
            part, auc = part[part[group] == name], auc[auc[group] == name]
        prefix = f"{name}: " if group else ""
        shift = 0.006 * (np.arange(len(auc)) - (len(auc) - 1) / 2)  # bars side by side
        for m, dx in zip(auc["method"], shift):
            sel = part[part["method"] == m]
            style = {"color": "grey", "ls": "--"} if m == "random" else {"marker": "o"}
            for ax, v in zip(row[:2], ("drop", "increase")):
                ax.errorbar(sel["keep"] + dx, sel[v], yerr=_error_bars(sel, v), label=m,
                            capsize=2, ms=4, **style)
        row[0].set(title=f"{prefix}Average Drop (lower is better)",
                   xlabel=f"fraction of {unit} kept", ylabel="drop", ylim=(0, 1))
        row[1].set(title=f"{prefix}Increase in Confidence (higher is better)",
                   xlabel=f"fraction of {unit} kept", ylabel="increase", ylim=(0, 1))
        pos = np.arange(len(auc))
        row[2].bar(pos - 0.2, auc["deletion_auc"], 0.4, label="deletion (lower is better)",
                   yerr=_error_bars(auc, "deletion_auc"), capsize=2)
        row[2].bar(pos + 0.2, auc["insertion_auc"], 0.4, label="insertion (higher is better)",
                   yerr=_error_bars(auc, "insertion_auc"), capsize=2)
        row[2].set_xticks(pos, auc["method"], rotation=30, ha="right")
        row[2].set(title=f"{prefix}deletion / insertion AUC", ylabel="AUC (probability)",
                   ylim=(0, 1.3), yticks=np.linspace(0, 1, 6))  # room for the legend
        row[0].legend(fontsize=8)
        row[2].legend(fontsize=8, loc="upper center", ncol=2)
        for ax in row:
            ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def distributions(table, metrics, methods=None, title=None):
    """Per-sample distributions of a long table (columns ``method``, ``metric``, ``value``, as
    :func:`xai.evaluation.evaluate` writes): one panel per metric, one box per method (median,
    quartiles, whiskers at 1.5 IQR; the mean as a white dot; n under each name). ``methods``:
    their order (default: the table's); NaN values are left out."""
    import matplotlib.pyplot as plt
    methods = list(dict.fromkeys(table["method"])) if methods is None else list(methods)
    fig, axes = plt.subplots(1, len(metrics), figsize=(1.1 * len(methods) * len(metrics) + 1.5,
                                                        3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        rows = table[table["metric"] == metric]
        values = [rows.loc[rows["method"] == m, "value"].dropna().to_numpy() for m in methods]
        ax.boxplot(values, showmeans=True, showfliers=False,
                   meanprops={"marker": "o", "markerfacecolor": "white",
                              "markeredgecolor": "black", "markersize": 4})
        ax.set_xticks(np.arange(1, len(methods) + 1),
                      [f"{m}\nn={len(v)}" for m, v in zip(methods, values)], fontsize=7)
        ax.set_title(metric, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def save_image(image_uint8, path):
    """Write an RGB uint8 image (e.g. an :func:`overlay`) as PNG/JPEG, creating its folders."""
    import cv2
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.ascontiguousarray(_as_uint8_image(image_uint8)[..., ::-1])):
        raise OSError(f"could not write {path}")
    return path


def save(fig, path, dpi=120):
    """Save ``fig`` to ``path`` (format from the suffix, PNG usually), creating its folders.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata=_NO_STAMPS.get(path.suffix.lower()))
    return path


def sanity_figure(curves, layers):
    """The cascading-randomisation curves of :func:`xai.metrics.sanity_curves`: |Spearman| and
    SSIM of each method's maps against the trained model's after each randomised layer, one
    line per method, labelled at its end (the signed Spearman repeats |Spearman| for CAMs,
    which are ≥ 0, so it is left out)."""
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(curves["method"]))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    for ax, metric in zip(axes, ("spearman_abs", "ssim")):
        for i, m in enumerate(methods):
            c = curves[(curves["method"] == m) & (curves["metric"] == metric)]
            ax.plot(c["step"], c["mean"], marker="os^Dv"[i % 5], ms=3, lw=1.2,
                    color=plt.cm.tab20(i / max(1, len(methods) - 1)), label=m)
        ax.set_xticks(range(len(layers) + 1), ["none", *layers], rotation=60, ha="right",
                      fontsize=7)
        ax.set_xlabel("randomised down to layer (cumulative)", fontsize=8)
        ax.set_title({"spearman_abs": "|Spearman| rank correlation", "ssim": "SSIM"}[metric],
                     fontsize=9)
        ax.axhline(0.5, color="grey", lw=0.6, ls="--")
        ax.axhline(0, color="grey", lw=0.5)
    axes[0].set_ylabel("similarity to the trained model's maps")
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle("Sanity check: maps while the top layers are randomised (dashed: the 0.5 "
                 "fail line)", fontsize=10)
    fig.tight_layout()
    return fig


#: file metadata that would change the bytes from one run or matplotlib version to the next
_NO_STAMPS = {".png": {"Software": None},
              ".pdf": {"Creator": None, "Producer": None, "CreationDate": None},
              ".svg": {"Creator": None, "Date": None}}


def notebook_figures(dpi=60):
    """Show inline figures in Jupyter as PNG at ``dpi`` (the saved files keep their own dpi), so
    executed notebooks stay small and their bytes do not depend on the matplotlib version.
    Outside IPython this does nothing."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        set_matplotlib_formats("png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
