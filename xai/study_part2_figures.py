"""Part 2's figures (notebook 02): IG next to each CAM with their direct combination, the
indirect experiment (IG ⊙ image with the CAM as product and as overlay), and IG against its
noise average. The maps they draw come from :mod:`xai.study_part2`."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .study_part2 import Photos


#: colour-bar labels: signed attribution panels, and the indirect overlay's float blend
SIGNED, BLEND = "attribution (signed)", "overlay value"


def _signed(data, title, percentile, vmax=None):
    """A signed map's panel of :func:`xai.viz.grid`: diverging, on ± the percentile of |a|, or
    on ±``vmax`` without its own colour bar (a shared scale: the figure draws one bar)."""
    panel = {"data": data, "kind": "diverging", "percentile": percentile, "title": title}
    if vmax is not None:
        panel.update(vmax=vmax, colorbar=False)
    return panel


def shared_limit(maps, percentile: float) -> float:
    """± the ``percentile`` of |a| pooled over ``maps``: one symmetric scale for panels that
    are compared (the pooled maximum if that percentile is 0; 1 for all-zero maps)."""
    a = np.abs(np.concatenate([np.ravel(m) for m in maps]).astype(np.float64))
    a = a[np.isfinite(a)]
    v = float(np.percentile(a, percentile)) if a.size else 0.0
    return v if v > 0 else (float(a.max()) if a.size and a.max() > 0 else 1.0)


def _bar(fig, axes, mappable, label: str):
    """One colour bar right of ``axes`` (all panels on one scale), spanning their height."""
    boxes = [ax.get_position() for ax in axes]
    x1, y0, y1 = max(b.x1 for b in boxes), min(b.y0 for b in boxes), max(b.y1 for b in boxes)
    cax = fig.add_axes([x1 + 0.012, y0, 0.012, y1 - y0])
    bar = fig.colorbar(mappable, cax=cax)
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=7)


def _draw(rows, row_titles, suptitle, panel_size, path, labels, shared, cams=True):
    """:func:`xai.viz.grid` of ``rows``, then: its panels' own colour bars labelled (``labels``,
    one per row), one colour bar per ``shared`` entry (row indices, label) right of those rows,
    made from their last image, the CAM's colour bar right of row 0 if ``cams``, and the figure
    saved to ``path``."""
    import matplotlib
    from matplotlib.colors import Normalize

    from . import viz

    fig = viz.grid(rows, row_titles=row_titles, suptitle=suptitle, panel_size=panel_size)
    ncols = max(len(r) for r in rows)
    panels = np.array(fig.axes[:len(rows) * ncols], dtype=object).reshape(len(rows), ncols)
    for row, label in zip(panels, labels):
        for im in (im for ax in row for im in ax.images if im.colorbar is not None):
            im.colorbar.set_label(label, fontsize=7)
    for which, label in shared:
        axes = [ax for ax in panels[list(which)].ravel() if ax.images]
        _bar(fig, axes, axes[-1].images[0], label)
    if cams:
        cam = matplotlib.cm.ScalarMappable(Normalize(0, 1), viz.MAP_CMAP)
        _bar(fig, panels[0], cam, "CAM (scaled to [0, 1])")
    viz.save(fig, path)


def _cam_row(photos: Photos, cams: dict, i: int) -> list:
    """The photo, then each CAM over it: the first row of Part 2's figures."""
    from . import viz

    top = photos.top
    return ([{"data": photos.images[i], "title": f"input: {top[i][1]} {top[i][2]:.2f}"}]
            + [{"data": viz.overlay(photos.images[i], cams[m][i]),
                "title": f"{m}\nCAM over the input"} for m in cams])


def direct_figures(photos: Photos, cams: dict, ig_map, direct: dict, percentile: float,
                   caption: str, out, shared_scale: bool = False) -> None:
    """Experiment 1's figure per photo, ``<out>/<name>_direct.png``: the photo and each CAM
    over it, then Σ_c IG (``ig_map``) and each CAM ⊙ Σ_c IG, signed maps on ± the
    ``percentile`` of |a| -- each its own, or with ``shared_scale`` one pooled over the row,
    with one colour bar, so the panels compare; ``caption`` (model, profile) ends the title."""
    for i, name in enumerate(photos.names):
        maps = [ig_map[i]] + [direct[m][i] for m in cams]
        v = shared_limit(maps, percentile) if shared_scale else None
        titles = ["Σc IG"] + [f"{m}\nCAM ⊙ Σc IG" for m in cams]
        _draw([_cam_row(photos, cams, i),
               [_signed(a, t, percentile, v) for a, t in zip(maps, titles)]],
              ["CAM", "direct: CAM ⊙ Σc IG"],
              f"{name}: experiment 1, direct ({caption})", 2.2, out / f"{name}_direct.png",
              [None, SIGNED], [((1,), f"{SIGNED}, shared scale")] if shared_scale else [])


def indirect_figures(photos: Photos, cams: dict, indirect: dict, alpha: float,
                     percentile: float, caption: str, out, shared_scale: bool = False) -> None:
    """Experiment 2's figure per photo, ``<out>/<name>_indirect.png``: the photo and each CAM
    over it; Σ_c (IG ⊙ image) and each CAM's product with it (each on its own ± percentile of
    |a|, or with ``shared_scale`` on one pooled over the row, one colour bar); each CAM's
    overlay (from :func:`indirect_maps`), on [−(1 − alpha), 1] with white at 0 (one colour bar
    with ``shared_scale``)."""
    from . import viz

    ixi_map = viz.attribution_to_map(indirect["ig_x_image"], "sum")
    product, blend = indirect["product"], indirect["overlay"]
    for i, name in enumerate(photos.names):
        maps = [ixi_map[i]] + [product[m][i] for m in cams]
        v = shared_limit(maps, percentile) if shared_scale else None
        titles = ["Σc IG ⊙ image"] + [f"{m}\nCAM ⊙ Σc (IG ⊙ image)" for m in cams]
        overlays = [None] + [{"data": blend[m][i], "kind": "diverging", "vmax": 1.0,
                              "vmin": -(1 - alpha) if alpha < 1 else None,
                              "colorbar": not shared_scale,
                              "title": f"{m}\n{1 - alpha:g}·s + {alpha:g}·CAM"} for m in cams]
        _draw([_cam_row(photos, cams, i),
               [_signed(a, t, percentile, v) for a, t in zip(maps, titles)], overlays],
              ["CAM", "product", f"overlay (α = {alpha:g})"],
              f"{name}: experiment 2, indirect ({caption})", 2.2, out / f"{name}_indirect.png",
              [None, SIGNED, BLEND],
              [((1,), f"{SIGNED}, shared scale"), ((2,), f"{BLEND}, shared scale")]
              if shared_scale else [])


def noise_figure(photos: Photos, ig_map, noisy_map, copies: int, spread: float,
                 percentile: float, caption: str, out, shared_scale: bool = False) -> None:
    """The first photo's Σ_c IG next to IG averaged over noisy copies (:func:`noisy_ig_map`),
    whole and as a 56 × 56 centre crop: ``<out>/<name>_ig_noise_average.png``; with
    ``shared_scale`` the four signed panels share one scale (the percentile of |a| pooled over
    both whole maps) and one colour bar."""
    h, w = photos.images.shape[1:3]
    crop = np.s_[h // 2 - 28:h // 2 + 28, w // 2 - 28:w // 2 + 28]
    image, plain, noisy = photos.images[0], ig_map[0], noisy_map[0]
    v = shared_limit([plain, noisy], percentile) if shared_scale else None
    _draw([[{"data": image, "title": f"input: {photos.top[0][1]}"},
            _signed(plain, "Σc IG", percentile, v),
            _signed(noisy, f"Σc IG, mean of {copies}\nnoisy copies (σ = {spread:g} × range)",
                    percentile, v)],
           [{"data": image[crop], "title": "centre crop"},
            _signed(plain[crop], "Σc IG", percentile, v),
            _signed(noisy[crop], "Σc IG, noisy copies", percentile, v)]],
          ["whole image", "56 × 56 centre"],
          f"{photos.names[0]}: IG and IG averaged over noisy copies ({caption})", 2.6,
          out / f"{photos.names[0]}_ig_noise_average.png", [SIGNED, SIGNED],
          [((0, 1), f"{SIGNED}, shared scale")] if shared_scale else [], cams=False)
