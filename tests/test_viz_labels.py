"""Figure words and colours (xai.viz.labels), the sanity-check figure (xai.viz.sanity), the
colour bars' labels and the colour stops the demo page draws its colour bar with."""
import cv2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import QuadMesh

from xai import viz
from xai.viz import sanity


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _contrast(fg, bg):
    """WCAG 2 contrast ratio of two sRGB colours in [0, 1], written out here."""
    def lum(c):
        c = np.asarray(c, float)[:3]
        c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_metric_label_capitalises_and_spells_out_metric_names():
    assert viz.metric_label("deletion_auc") == "Deletion AUC"
    assert viz.metric_label("deletion") == "Deletion AUC"  # the engine's deletion is its AUC
    assert viz.metric_label("insertion_auc") == "Insertion AUC"
    assert viz.metric_label("mufidelity") == "µ-Fidelity"
    # names not in the table: words, a capital first letter, acronyms in capitals
    assert viz.metric_label("top3_iou") == "Top3 IoU"
    assert viz.metric_label("mean_ssim_auc") == "Mean SSIM AUC"
    assert "auc" not in " ".join(viz.metric_label(k) for k in viz.METRIC_LABELS)
    with pytest.raises(ValueError, match="no words"):
        viz.metric_label("__")


@pytest.mark.parametrize("background, expected", [
    ((1, 1, 1), "black"), ((0, 0, 0), "white"), ((1, 1, 0), "black"),  # yellow: dark text
    ((0, 0, 0.5), "white"), ((0.40, 0.40, 0.40), "white"), ((0.55, 0.55, 0.55), "black"),
])
def test_text_colour_is_the_one_of_higher_contrast(background, expected):
    assert viz.text_colour(background) == expected
    other = "white" if expected == "black" else "black"
    rgb = {"black": (0, 0, 0), "white": (1, 1, 1)}
    assert _contrast(rgb[expected], background) > _contrast(rgb[other], background)


def test_text_colour_reads_on_every_colour_of_common_colormaps():
    """Whatever the cell's colour, the chosen text reaches WCAG's 4.5:1 for normal text on
    these colormaps (the best of black and white is always at least 4.58:1)."""
    for name in ("viridis", "Blues_r", "jet", "RdBu_r"):
        for colour in plt.get_cmap(name)(np.linspace(0, 1, 64)):
            text = (0, 0, 0) if viz.text_colour(colour) == "black" else (1, 1, 1)
            assert _contrast(text, colour) >= 4.5, (name, colour)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        viz.text_colour((255, 0, 0))


def test_colormap_stops_are_the_overlays_colours():
    stops = viz.colormap_stops(n=5)
    values = np.rint(np.linspace(0, 1, 5) * 255).astype(np.uint8)[:, None]
    bgr = cv2.applyColorMap(values, cv2.COLORMAP_JET)[:, 0]
    assert stops == ["#%02x%02x%02x" % (r, g, b) for b, g, r in bgr.tolist()]
    with pytest.raises(ValueError, match="at least 2"):
        viz.colormap_stops(n=1)


def test_colour_bars_and_empty_panels_are_labelled(rng):
    fig = viz.grid([[rng.normal(size=(6, 6)), {"data": rng.random((6, 6)), "colorbar": True},
                     {"data": np.zeros((6, 6, 3), np.uint8), "note": "empty map"}]])
    signed_bar, map_bar = fig.axes[3], fig.axes[4]
    assert signed_bar.get_ylabel() == "attribution (+ red, − blue)"
    assert map_bar.get_ylabel() == "map value (0 = low)"
    assert [t.get_text() for t in fig.axes[2].texts] == ["empty map"]
    fig, ax = plt.subplots()
    viz.signal_strip(ax, np.arange(8.0), np.linspace(-1, 1, 8), cbar_label="IG")
    assert fig.axes[1].get_ylabel() == "IG"


def _curves(signed_gap=0.3):
    """Sanity curves of a CAM (signed = absolute), a copy of it, a gradient method whose signed
    Spearman differs from the absolute one, and RISE, over two randomised layers."""
    rows = []
    for method, base, gap in (("gradcam", 0.2, 0.0), ("xgradcam", 0.2, 0.0),
                              ("saliency", 0.4, signed_gap), ("rise", 0.6, 0.0)):
        for step, layer in enumerate(["none", "top", "next"]):
            value = 1.0 if step == 0 else base / step
            for metric, v in (("spearman_abs", value), ("spearman", value - gap * (step > 0)),
                              ("ssim", value / 2 if step else 1.0)):
                rows.append({"step": step, "layer": layer, "metric": metric, "mean": v,
                             "std": 0.0, "method": method})
    return pd.DataFrame(rows)


def test_sanity_figure_shows_the_signed_panel_only_for_signed_maps():
    fig = viz.sanity_figure(_curves(), ["top", "next"])
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert len(axes) == 3
    labels = [[line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
              for ax in axes]
    assert labels[0] == ["gradcam", "xgradcam (= gradcam)", "saliency", "rise", "fail line (0.5)"]
    assert labels[1] == ["saliency"]  # the only signed map
    assert labels[2] == ["gradcam", "xgradcam (= gradcam)", "saliency", "rise"]
    styles = {line.get_label(): line.get_linestyle() for line in axes[0].get_lines()}
    assert (styles["gradcam"], styles["saliency"], styles["rise"]) == ("-", "--", ":")
    colours = [tuple(line.get_color()) for line in axes[0].get_lines()[:2]]
    assert colours[0] != colours[1]  # two CAMs, two colours
    np.testing.assert_allclose(axes[1].get_lines()[0].get_ydata(), [1.0, 0.1, -0.1])
    # with no signed map there is no signed panel
    fig = viz.sanity_figure(_curves(signed_gap=0.0), ["top", "next"])
    assert [ax.get_title().split("\n")[0] for ax in fig.axes if ax.get_title()] == [
        "Spearman rank correlation of |map|", "SSIM of |map| (every method)"]
    with pytest.raises(ValueError, match="spearman"):
        sanity._signed_methods(_curves().query("metric != 'spearman'"))


def test_every_method_of_a_family_gets_its_own_colour_and_marker():
    names = [f"method{k}" for k in range(23)]  # not registered: one family, "other"
    styles = sanity._family_styles(names)
    pairs = {(tuple(s["color"]), s["marker"]) for s in styles.values()}
    assert len(pairs) == 23 and {s["ls"] for s in styles.values()} == {"-."}


def test_grid_can_add_one_labelled_colour_bar_for_its_overlays(rng):
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    panels = [[image, viz.overlay(image, rng.random((8, 8)))]]
    assert len(viz.grid(panels).axes) == 2  # none unless asked
    fig = viz.grid(panels, overlay_colorbar="CAM (0 = low, 1 = high)")
    bar = fig.axes[-1]
    assert len(fig.axes) == 3 and bar.get_ylabel() == "CAM (0 = low, 1 = high)"
    assert bar.get_ylim() == (0.0, 1.0)
    meshes = [c for c in bar.get_children() if isinstance(c, QuadMesh)]
    assert [m.get_cmap().name for m in meshes] == ["jet"]  # the overlays' colormap


def test_overlay_colour_bar_true_takes_the_default_label(rng):
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    fig = viz.grid([[viz.overlay(image, rng.random((8, 8)))]], overlay_colorbar=True)
    assert fig.axes[-1].get_ylabel() == viz.OVERLAY_LABEL == "map value (0 = low, 1 = high)"


def test_study_figures_label_their_colour_bars(rng):
    """MNIST-1D's class averages, each panel with its bar; the X-ray region figure's mean
    Grad-CAM overlays, one bar for them."""
    from xai.studies import mnist1d, xray_figures

    y = np.repeat([0, 1], 3)
    fig = mnist1d.class_average_figure("m", {"gradcam": rng.random((6, 12))}, y, ["gradcam"])
    assert fig.axes[1].get_ylabel() == "class-average map value"
    group = np.array(["true positive", "true negative"] * 3)
    table = pd.DataFrame([{"layer": "L", "method": "gradcam", "measure": m, "region": r,
                           "area": 0.5, "true positive": 0.6, "true negative": 0.4}
                          for m in ("mass share", "peak inside") for r in ("lungs", "rest")])
    fig = xray_figures.region_figure(rng.random((6, 8, 8, 3)), group, rng.random((6, 8, 8)),
                                     table, "L")
    bars = [ax for ax in fig.axes if ax.get_ylabel() == "mean Grad-CAM (0 = low, 1 = high)"]
    assert len(bars) == 1
