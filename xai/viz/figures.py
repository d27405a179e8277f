"""Matplotlib figures: signed (diverging) maps, grids of images and maps, 1-D signal strips, the
faithfulness and distribution figures (the sanity-check figure: :mod:`xai.viz.sanity`).

Figures are made with ``matplotlib.pyplot``, so they show inline in Jupyter; in a script with no
display matplotlib falls back to its "Agg" backend by itself (the backend is never forced here).
"""
from __future__ import annotations

import numpy as np

from ._arrays import _as_uint8_image, _symmetric_limit
from .display import DIVERGING_CMAP, MAP_CMAP
from .labels import metric_label
from .saving import save

#: colour-bar labels: a signed map (white = 0) and a map ≥ 0 such as a CAM
_SIGNED_LABEL = "attribution (+ red, − blue)"
_MAP_LABEL = "map value (0 = low)"
#: the label of :func:`grid`'s ``overlay_colorbar=True``
OVERLAY_LABEL = "map value (0 = low, 1 = high)"


def _colorbar(ax, im, label):
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    cb.set_label(label, fontsize=7)
    cb.ax.tick_params(labelsize=7)
    return cb


# --------------------------------------------------------------------------- drawing
def diverging(ax, attr2d, title=None, cmap=DIVERGING_CMAP, colorbar=True, vmax=None,
              percentile=None, vmin=None, cbar_label=_SIGNED_LABEL):
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
    cbar_label : str
        The colour bar's label.

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
        _colorbar(ax, im, cbar_label)
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
            raise ValueError("a panel must be an RGB image (H, W, 3) or a 2-D map, "
                             f"got {data.shape}")
    if p["kind"] not in ("rgb", "map", "diverging"):
        raise ValueError(f"panel kind must be 'rgb', 'map' or 'diverging', got {p['kind']!r}")
    return p


def grid(rows_of_panels, row_titles=None, col_titles=None, path=None, panel_size=2.4,
         suptitle=None, dpi=120, overlay_colorbar=None):
    """A figure of images and maps, one row per list.

    Parameters
    ----------
    rows_of_panels : list of lists
        Each panel is an array -- RGB (H, W, 3) shown as is, a 2-D map shown with "jet" on
        [0, max(1, max)] or, if it has negative values, with :func:`diverging` -- or a dict
        ``{"data": array, "title": str, "kind": "rgb" | "map" | "diverging", "cmap": str,
        "colorbar": bool, "cbar_label": str, "vmax": float, "vmin": float, "percentile": float,
        "note": str}`` (the vmax, vmin and percentile as in :func:`diverging`; a note is written
        across the panel, e.g. "empty map"), or None for an empty cell. Rows may have different
        lengths.
    row_titles, col_titles : list of str, optional
        Written left of each row and above each column.
    path : str or Path, optional
        If given, the figure is saved there with :func:`save` (PNG, ``dpi``, tight box).
    panel_size : float
        Inches per panel.
    suptitle : str, optional
    dpi : int
    overlay_colorbar : str or bool, optional
        If given, one colour bar right of the grid with this label (True: :data:`OVERLAY_LABEL`),
        for the panels made with :func:`overlay` (RGB panels do not carry their colormap):
        :data:`MAP_CMAP` on [0, 1].

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
                          percentile=p.get("percentile"), vmin=p.get("vmin"),
                          cbar_label=p.get("cbar_label", _SIGNED_LABEL))
            else:
                d = np.asarray(p["data"], dtype=np.float32)
                im = ax.imshow(d, cmap=p.get("cmap", MAP_CMAP), vmin=0.0,
                               vmax=max(1.0, float(np.nanmax(d, initial=0.0))))
                if p.get("colorbar", False):
                    _colorbar(ax, im, p.get("cbar_label", _MAP_LABEL))
            if p is not None and p.get("note"):
                ax.text(0.5, 0.5, p["note"], transform=ax.transAxes, ha="center", va="center",
                        fontsize=9, bbox={"facecolor": "white", "alpha": 0.85, "lw": 0})
            if title:
                ax.set_title(title, fontsize=9)
            if j == 0 and row_titles is not None and row_titles[i]:
                ax.set_ylabel(row_titles[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    if overlay_colorbar:
        from matplotlib.cm import ScalarMappable
        bar = fig.colorbar(ScalarMappable(cmap=MAP_CMAP), ax=fig.axes, fraction=0.02, pad=0.01)
        bar.set_label(OVERLAY_LABEL if overlay_colorbar is True else overlay_colorbar)
    if path is not None:
        save(fig, path, dpi=dpi)
    return fig


def signal_strip(ax, signal_1d, map_1d, title=None, cmap=None, strip=True, colorbar=True,
                 cbar_label=None):
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
    cbar_label : str, optional
        The colour bar's label (default: "map value (0 = low)" or, for a signed map,
        "attribution (+ red, − blue)").

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
    signed = m.min(initial=0.0) < 0
    if signed:
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
        _colorbar(ax, lc, cbar_label or (_SIGNED_LABEL if signed else _MAP_LABEL))
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
        row[2].bar(pos - 0.2, auc["deletion_auc"], 0.4, label="Deletion (lower is better)",
                   yerr=_error_bars(auc, "deletion_auc"), capsize=2)
        row[2].bar(pos + 0.2, auc["insertion_auc"], 0.4, label="Insertion (higher is better)",
                   yerr=_error_bars(auc, "insertion_auc"), capsize=2)
        row[2].set_xticks(pos, auc["method"], rotation=30, ha="right")
        row[2].set(title=f"{prefix}Deletion AUC / Insertion AUC", ylabel="AUC (probability)",
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
        ax.set_title(metric_label(metric), fontsize=9)
        ax.set_ylabel("value per sample", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
