"""Part 2's figures (notebook 02): IG next to each CAM with their direct combination, the
indirect experiment (IG ⊙ image with the CAM as product and as overlay), and IG against its
noise average. The maps they draw come from :mod:`xai.study_part2`."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .study_part2 import Photos


def _signed(data, title, percentile):
    """A signed map's panel of :func:`xai.viz.grid`: diverging, on ± the percentile of |a|."""
    return {"data": data, "kind": "diverging", "percentile": percentile, "title": title}


def _cam_row(photos: Photos, cams: dict, i: int) -> list:
    """The photo, then each CAM over it: the first row of Part 2's figures."""
    from . import viz

    top = photos.top
    return ([{"data": photos.images[i], "title": f"input: {top[i][1]} {top[i][2]:.2f}"}]
            + [{"data": viz.overlay(photos.images[i], cams[m][i]),
                "title": f"{m}\nCAM over the input"} for m in cams])


def direct_figures(photos: Photos, cams: dict, ig_map, direct: dict, percentile: float,
                   caption: str, out) -> None:
    """Experiment 1's figure per photo, ``<out>/<name>_direct.png``: the photo and each CAM
    over it, then Σ_c IG (``ig_map``) and each CAM ⊙ Σ_c IG, signed maps on ± the
    ``percentile`` of |a|; ``caption`` (model, profile) ends the title."""
    from . import viz

    for i, name in enumerate(photos.names):
        viz.grid(
            [_cam_row(photos, cams, i),
             [_signed(ig_map[i], "Σc IG", percentile)]
             + [_signed(direct[m][i], f"{m}\nCAM ⊙ Σc IG", percentile) for m in cams]],
            row_titles=["CAM", "direct: CAM ⊙ Σc IG"],
            suptitle=f"{name}: experiment 1, direct ({caption})",
            panel_size=2.2, path=out / f"{name}_direct.png")


def indirect_figures(photos: Photos, cams: dict, indirect: dict, alpha: float,
                     percentile: float, caption: str, out) -> None:
    """Experiment 2's figure per photo, ``<out>/<name>_indirect.png``: the photo and each CAM
    over it; Σ_c (IG ⊙ image) and each CAM's product with it; each CAM's overlay (from
    :func:`indirect_maps`), on [−(1 − alpha), 1] with white at 0."""
    from . import viz

    ixi_map = viz.attribution_to_map(indirect["ig_x_image"], "sum")
    product, blend = indirect["product"], indirect["overlay"]
    for i, name in enumerate(photos.names):
        viz.grid(
            [_cam_row(photos, cams, i),
             [_signed(ixi_map[i], "Σc IG ⊙ image", percentile)]
             + [_signed(product[m][i], f"{m}\nCAM ⊙ Σc (IG ⊙ image)", percentile)
                for m in cams],
             [None] + [{"data": blend[m][i], "kind": "diverging", "vmax": 1.0,
                        "vmin": -(1 - alpha) if alpha < 1 else None,
                        "title": f"{m}\n{1 - alpha:g}·s + {alpha:g}·CAM"} for m in cams]],
            row_titles=["CAM", "product", f"overlay (α = {alpha:g})"],
            suptitle=f"{name}: experiment 2, indirect ({caption})",
            panel_size=2.2, path=out / f"{name}_indirect.png")


def noise_figure(photos: Photos, ig_map, noisy_map, copies: int, spread: float,
                 percentile: float, caption: str, out) -> None:
    """The first photo's Σ_c IG next to IG averaged over noisy copies (:func:`noisy_ig_map`),
    whole and as a 56 × 56 centre crop: ``<out>/<name>_ig_noise_average.png``."""
    from . import viz

    h, w = photos.images.shape[1:3]
    crop = np.s_[h // 2 - 28:h // 2 + 28, w // 2 - 28:w // 2 + 28]
    image, plain, noisy = photos.images[0], ig_map[0], noisy_map[0]
    viz.grid(
        [[{"data": image, "title": f"input: {photos.top[0][1]}"},
          _signed(plain, "Σc IG", percentile),
          _signed(noisy, f"Σc IG, mean of {copies}\nnoisy copies (σ = {spread:g} × range)",
                  percentile)],
         [{"data": image[crop], "title": "centre crop"},
          _signed(plain[crop], "Σc IG", percentile),
          _signed(noisy[crop], "Σc IG, noisy copies", percentile)]],
        row_titles=["whole image", "56 × 56 centre"],
        suptitle=f"{photos.names[0]}: IG and IG averaged over noisy copies ({caption})",
        panel_size=2.6, path=out / f"{photos.names[0]}_ig_noise_average.png")
