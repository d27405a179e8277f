"""Tests for xai.viz: overlays, channel reductions, diverging maps, grids, 1-D strips, saving."""
import cv2
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from xai import viz


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _jet(value):
    """OpenCV's jet colour of a map value in [0, 1], as RGB float."""
    bgr = cv2.applyColorMap(np.full((1, 1), round(value * 255), np.uint8), cv2.COLORMAP_JET)
    return bgr[0, 0, ::-1].astype(np.float64)


# ------------------------------------------------------------------------------ overlay
def test_overlay_of_zero_map_is_image_blended_with_the_colormaps_zero_colour(rng):
    img = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    out = viz.overlay(img, np.zeros((20, 30)), alpha=0.4)
    expected = np.rint(0.6 * img + 0.4 * _jet(0.0)).astype(np.uint8)
    assert out.dtype == np.uint8 and out.shape == img.shape
    np.testing.assert_array_equal(out, expected)
    assert tuple(_jet(0.0)) == (0, 0, 128)  # jet's 0 is dark blue (RGB), not BGR's red


def test_overlay_alpha_extremes_and_hot_spot(rng):
    img = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    m = np.zeros((16, 16), np.float32)
    m[4, 5] = 1.0
    np.testing.assert_array_equal(viz.overlay(img, m, alpha=0.0), img)
    full = viz.overlay(img, m, alpha=1.0)
    np.testing.assert_array_equal(full[4, 5], _jet(1.0))       # dark red at the maximum
    np.testing.assert_array_equal(full[0, 0], _jet(0.0))


def test_overlay_resizes_the_map_and_clips_it(rng):
    img = rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)
    small = np.full((7, 7), 2.0, np.float32)  # out of range: clipped to 1
    small[0, 0] = np.nan                       # NaN -> 0, never propagates
    out = viz.overlay(img, small, alpha=1.0)
    assert out.shape == (64, 48, 3)
    np.testing.assert_array_equal(out[40, 30], _jet(1.0))


def test_overlay_accepts_float_images_and_rejects_bad_input(rng):
    img = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    m = rng.random((8, 8)).astype(np.float32)
    np.testing.assert_array_equal(viz.overlay(img / 255.0, m), viz.overlay(img, m))
    with pytest.raises(ValueError, match="colormap"):
        viz.overlay(img, m, cmap="not_a_map")
    with pytest.raises(ValueError, match="2-D"):
        viz.overlay(img, np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="alpha"):
        viz.overlay(img, m, alpha=1.5)


# ------------------------------------------------------------------------------ reductions
def test_attribution_to_map_reductions(rng):
    a = rng.normal(size=(2, 5, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(viz.attribution_to_map(a), a.sum(-1), rtol=1e-6)
    np.testing.assert_allclose(viz.attribution_to_map(a, "abs_sum"), np.abs(a).sum(-1), rtol=1e-6)
    np.testing.assert_allclose(viz.attribution_to_map(a, "max_abs"), np.abs(a).max(-1))
    assert viz.attribution_to_map(a).shape == (2, 5, 6)
    assert (viz.attribution_to_map(a) < 0).any()  # "sum" stays signed
    with pytest.raises(ValueError, match="reduce"):
        viz.attribution_to_map(a, "mean")


def test_resize_batches_lists_and_keeps_dtype(rng):
    imgs = [rng.integers(0, 256, (30, 40, 3), dtype=np.uint8),
            rng.integers(0, 256, (50, 20, 3), dtype=np.uint8)]
    out = viz.resize(imgs, 16)
    assert out.shape == (2, 16, 16, 3) and out.dtype == np.uint8
    maps = rng.random((3, 7, 7)).astype(np.float32)
    assert viz.resize(maps, (14, 21)).shape == (3, 14, 21)
    same = viz.resize(imgs[0], (30, 40))
    np.testing.assert_array_equal(same, imgs[0])


# ------------------------------------------------------------------------------ drawing
def test_diverging_uses_a_symmetric_range_centred_at_zero():
    a = np.array([[-0.5, 0.0], [0.25, 2.0]], np.float32)
    fig, ax = plt.subplots()
    im = viz.diverging(ax, a, "ig")
    assert im.get_clim() == (-2.0, 2.0)
    assert ax.get_title() == "ig"
    assert len(fig.axes) == 2  # the colorbar
    # 0 is the middle of the colormap: white-ish for RdBu_r
    assert np.allclose(im.to_rgba(np.array([[0.0]]))[0, 0, :3], im.cmap(0.5)[:3])
    im2 = viz.diverging(plt.subplots()[1], -a, colorbar=False, vmax=1.0)
    assert im2.get_clim() == (-1.0, 1.0)


def test_diverging_percentile_and_zero_map():
    a = np.linspace(-1, 1, 101, dtype=np.float32).reshape(1, -1)
    a[0, -1] = 100.0  # one outlier
    im = viz.diverging(plt.subplots()[1], a, percentile=99)
    lo, hi = im.get_clim()
    assert lo == -hi and 0.9 < hi < 10
    z = viz.diverging(plt.subplots()[1], np.zeros((3, 3)))  # no NaN / zero-width range
    assert z.get_clim() == (-1.0, 1.0)
    with pytest.raises(ValueError, match="2-D"):
        viz.diverging(plt.subplots()[1], np.zeros((2, 3, 3)))


def test_diverging_asymmetric_range_keeps_white_at_zero():
    """The overlay's [−0.5, 1]: each value keeps its colour of the ±1 scale (−0.5 → a quarter
    up RdBu_r, 0 → white middle, 1 → top), and the colorbar spans only [−0.5, 1]."""
    a = np.array([[-0.5, 0.0], [0.5, 1.0]], np.float32)
    im = viz.diverging(plt.subplots()[1], a, vmin=-0.5, vmax=1.0)
    assert im.get_clim() == (-0.5, 1.0)
    rgba = im.to_rgba(a)[..., :3]
    full = matplotlib.colormaps[viz.DIVERGING_CMAP]
    for value in (-0.5, 0.0, 0.5, 1.0):
        assert np.allclose(rgba[a == value][0], full(0.5 + value / 2)[:3], atol=0.01), value
    with pytest.raises(ValueError, match="vmin must be negative"):
        viz.diverging(plt.subplots()[1], a, vmin=0.2, vmax=1.0)


def test_grid_draws_kinds_titles_and_saves(tmp_path, rng):
    img = rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)
    cam = rng.random((10, 10)).astype(np.float32)
    signed = rng.normal(size=(10, 10)).astype(np.float32)
    path = tmp_path / "sub" / "dir" / "grid.png"
    fig = viz.grid([[img, cam, signed], [{"data": img, "title": "cat 0.9"}, None]],
                   row_titles=["a", "b"], col_titles=["x", "y", "z"], path=path)
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    axes = fig.axes
    assert axes[0].get_title() == "x" and axes[0].get_ylabel() == "a"
    assert axes[3].get_title() == "cat 0.9"
    # the signed panel got a symmetric diverging range, the CAM [0, 1]
    clim_signed = axes[2].images[0].get_clim()
    assert clim_signed[0] == -clim_signed[1] == -np.abs(signed).max()
    assert axes[1].images[0].get_clim() == (0.0, 1.0)
    with pytest.raises(ValueError, match="col_titles"):
        viz.grid([[img]], col_titles=["a", "b"])
    with pytest.raises(ValueError, match="kind"):
        viz.grid([[{"data": cam, "kind": "sparkles"}]])


def test_signal_strip_colours_the_line_by_the_map(rng):
    s = np.sin(np.linspace(0, 6, 40)).astype(np.float32)
    cam = np.linspace(0, 1, 40, dtype=np.float32)
    fig, ax = plt.subplots()
    lc = viz.signal_strip(ax, s[:, None], cam, title="gradcam")
    assert len(lc.get_segments()) == 40
    np.testing.assert_allclose(lc.get_array(), cam)
    assert len(ax.images) == 1  # the heat strip
    ig = rng.normal(size=40).astype(np.float32)
    lc2 = viz.signal_strip(plt.subplots()[1], s, ig, strip=False, colorbar=False)
    assert lc2.norm.vmin == -lc2.norm.vmax == -np.abs(ig).max()
    with pytest.raises(ValueError, match="points"):
        viz.signal_strip(ax, s, cam[:10])


def test_save_creates_parent_folders(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    out = viz.save(fig, tmp_path / "a" / "b" / "c.png")
    assert out.is_file() and out.stat().st_size > 0


def test_library_does_not_force_a_backend():
    from pathlib import Path
    files = sorted(Path(viz.__file__).parent.glob("*.py"))  # every module of the package
    assert len(files) > 1
    for file in files:
        assert "matplotlib.use(" not in file.read_text(), file.name
    assert matplotlib.get_backend()  # whatever the environment chose


def test_all_lists_every_public_name():
    """xai.viz.__all__ names every public function and constant of the package's modules, each
    reachable as xai.viz.<name>."""
    import importlib
    import inspect
    import pkgutil
    defined = {}
    modules = [f"xai.viz.{m.name}" for m in pkgutil.iter_modules(viz.__path__)
               if not m.name.startswith("_")]
    assert {"xai.viz.display", "xai.viz.figures", "xai.viz.saving"} <= set(modules)
    for module in modules:
        for name, value in vars(importlib.import_module(module)).items():
            if not name.startswith("_") and (name.isupper()
                                             or getattr(value, "__module__", None) == module):
                defined[name] = value
    assert sorted(viz.__all__) == sorted(defined)
    assert len(viz.__all__) == len(set(viz.__all__))
    for name, value in defined.items():
        assert getattr(viz, name) is value
    assert inspect.isfunction(viz.overlay)


def test_save_writes_no_version_or_date(tmp_path):
    """Saved figures carry no matplotlib version or date, so a re-run gives the same bytes."""
    import matplotlib
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    viz.save(fig, tmp_path / "a.png")
    viz.save(fig, tmp_path / "b.png")
    viz.save(fig, tmp_path / "c.pdf")
    plt.close(fig)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert "Software" not in Image.open(tmp_path / "a.png").info
    pdf = (tmp_path / "c.pdf").read_bytes()
    assert b"CreationDate" not in pdf and matplotlib.__version__.encode() not in pdf


# ------------------------------------------------------------------------------ faithfulness
def test_faithfulness_figure_draws_the_bootstrap_intervals_as_error_bars():
    import pandas as pd

    from xai.metrics import Faithfulness
    di = pd.DataFrame({"method": ["a", "a", "random", "random"], "keep": [0.1, 0.5] * 2,
                       "drop": [0.5, 0.3, 0.7, 0.6], "drop_lo": [0.4, 0.2, 0.6, 0.5],
                       "drop_hi": [0.6, 0.35, 0.8, 0.7], "increase": [0.1, 0.2, 0.0, 0.1],
                       "increase_lo": [0.0, 0.1, 0.0, 0.0], "increase_hi": [0.2, 0.3, 0.1, 0.2],
                       "n": 9})
    auc = pd.DataFrame({"method": ["a", "random"], "deletion_auc": [0.3, 0.5],
                        "deletion_auc_lo": [0.25, 0.4], "deletion_auc_hi": [0.32, 0.6],
                        "insertion_auc": [0.7, 0.5], "insertion_auc_lo": [0.6, 0.45],
                        "insertion_auc_hi": [0.8, 0.55], "steps": 4, "n": 9})
    fig = viz.faithfulness_figure(Faithfulness(di, di.drop(columns="keep"), auc, 0.95))
    bars = [c for c in fig.axes[2].containers if hasattr(c, "errorbar") and c.errorbar]
    spans = [[tuple(sorted(seg[:, 1])) for seg in c.errorbar.lines[2][0].get_segments()]
             for c in bars]
    np.testing.assert_allclose(spans, [[(0.25, 0.32), (0.4, 0.6)], [(0.6, 0.8), (0.45, 0.55)]])
    drop_lines = [c for c in fig.axes[0].containers]
    lows = [sorted(seg[:, 1])[0] for c in drop_lines for seg in c.lines[2][0].get_segments()]
    np.testing.assert_allclose(lows, [0.4, 0.2, 0.6, 0.5])


def test_display_map_stretches_small_attributions_to_the_colour_range(rng):
    """An attribution peaking near 1e-3 (guided backprop's scale) is shown as Σ_c |a| divided by
    its 99th percentile per sample, so it spans [0, 1]; a zero sample stays zero, NaN shows as 0."""
    attr = (rng.normal(size=(3, 20, 20, 3)) * 1e-3).astype(np.float32)
    attr[1] *= 1e3  # another scale: each sample is stretched on its own
    attr[2] = 0.0
    attr[0, 0, 0, 0] = np.nan
    shown = viz.display_map(attr, "attribution")
    assert shown.shape == (3, 20, 20) and shown.dtype == np.float32
    for i in (0, 1):
        m = np.abs(attr[i]).sum(-1)
        scale = np.percentile(m[np.isfinite(m)], 99)
        np.testing.assert_allclose(shown[i], np.clip(np.nan_to_num(m) / scale, 0, 1),
                                   rtol=1e-5, atol=1e-6)
        assert shown[i].max() == 1.0 and np.mean(shown[i] == 1.0) >= 0.01
    assert not shown[2].any()
    # the overlay uses the colour range: not the image blended with the colormap's zero colour
    image = np.full((20, 20, 3), 128, np.uint8)
    assert not np.array_equal(viz.overlay(image, shown[0]), viz.overlay(image, 0 * shown[0]))


def test_display_map_shows_maps_as_they_are_and_checks_its_arguments(rng):
    cam = rng.random((2, 7, 7)).astype(np.float32) * 0.5
    np.testing.assert_array_equal(viz.display_map(cam), cam)
    np.testing.assert_array_equal(viz.display_map(cam * 4), np.clip(cam * 4, 0, 1))
    with pytest.raises(ValueError, match="'map' or 'attribution'"):
        viz.display_map(cam, "attributions")
    with pytest.raises(ValueError, match="percentile"):
        viz.display_map(cam, "attribution", percentile=0)


def test_distributions_draws_each_methods_per_sample_values():
    """One box per method and metric, its median and mean those of the method's values (NaN
    left out), in the order asked, n under each name."""
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = [("s%d" % i, m, k, v) for m, shift in (("gradcam", 0.0), ("random", 0.5))
            for k in ("iou", "rho") for i, v in enumerate(rng.random(30) + shift)]
    table = pd.DataFrame(rows, columns=["sample", "method", "metric", "value"])
    table.loc[0, "value"] = np.nan  # gradcam's first iou
    fig = viz.distributions(table, ["iou", "rho"], methods=["random", "gradcam"])
    for ax, metric in zip(fig.axes, ("iou", "rho")):
        labels = [t.get_text() for t in ax.get_xticklabels()]
        n_gradcam = 29 if metric == "iou" else 30
        assert labels == ["random\nn=30", f"gradcam\nn={n_gradcam}"]
        medians = [line.get_ydata()[0] for line in ax.lines if len(line.get_xdata()) == 2
                   and line.get_color() in ("C1", "#ff7f0e")]
        for method, median in zip(("random", "gradcam"), medians):
            v = table[(table["method"] == method) & (table["metric"] == metric)]["value"]
            assert np.isclose(median, np.nanmedian(v))
        assert len(medians) == 2
    plt.close(fig)
