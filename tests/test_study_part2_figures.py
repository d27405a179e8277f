"""Part 2's figures: a shared colour scale across compared panels, and labelled colour bars."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from xai import study_part2_figures as figures  # noqa: E402
from xai.study_part2 import Photos  # noqa: E402

CAMS = ("gradcam", "gradcam++")


@pytest.fixture
def maps():
    rng = np.random.default_rng(0)
    photos = Photos(["cat"], rng.integers(0, 255, (1, 32, 32, 3), dtype=np.uint8), None,
                    [(0, "tabby", 0.4)])
    cams = {m: rng.random((1, 32, 32)) for m in CAMS}
    ig = rng.standard_t(3, (1, 32, 32))
    return photos, cams, ig, {m: cams[m] * ig for m in CAMS}


def drawn(fn, *args, **kwargs):
    """The figure ``fn`` drew (left open, as in a notebook): its panels' images and the labels
    of its colour bars."""
    plt.close("all")
    fn(*args, **kwargs)
    fig = plt.gcf()
    images = [ax.images[0] for ax in fig.axes if ax.images]
    bars = [ax.get_ylabel() for ax in fig.axes if ax.collections and not ax.images]
    return images, bars


def test_shared_limit_is_the_pooled_percentile():
    a, b = np.array([[1.0, -4.0]]), np.array([[2.0, np.nan, -3.0]])
    assert figures.shared_limit([a, b], 50) == np.percentile([1, 4, 2, 3], 50) == 2.5
    assert figures.shared_limit([a, b], 100) == 4
    assert figures.shared_limit([np.zeros((2, 2))], 99) == 1.0


def test_direct_figure_shares_one_scale_with_one_labelled_bar(maps, tmp_path):
    photos, cams, ig, direct = maps
    images, bars = drawn(figures.direct_figures, photos, cams, ig, direct, 99.0,
                         "test", tmp_path, shared_scale=True)
    signed = [im for im in images if im.get_cmap().name == "RdBu_r"]
    v = np.percentile(np.abs(np.concatenate([ig.ravel()] + [direct[m].ravel() for m in CAMS])),
                      99.0)
    assert len(signed) == 3 and all(np.allclose(im.get_clim(), (-v, v)) for im in signed)
    assert sorted(bars) == ["CAM (scaled to [0, 1])", "attribution (signed), shared scale"]
    assert (tmp_path / "cat_direct.png").is_file()


def test_direct_figure_without_sharing_labels_each_panels_own_bar(maps, tmp_path):
    photos, cams, ig, direct = maps
    images, bars = drawn(figures.direct_figures, photos, cams, ig, direct, 99.0, "test",
                         tmp_path)
    signed = [im for im in images if im.get_cmap().name == "RdBu_r"]
    own = [np.percentile(np.abs(a), 99.0) for a in [ig[0]] + [direct[m][0] for m in CAMS]]
    assert [im.get_clim()[1] for im in signed] == pytest.approx(own)
    assert len(set(np.round(own, 6))) == 3
    assert sorted(bars) == ["CAM (scaled to [0, 1])"] + ["attribution (signed)"] * 3


def test_indirect_and_noise_figures_share_per_row(maps, tmp_path):
    photos, cams, ig, direct = maps
    indirect = {"ig_x_image": ig[..., None] * np.ones(3), "product": direct,
                "overlay": {m: 0.5 * np.clip(ig, -1, 1) + 0.5 * cams[m] for m in CAMS}}
    images, bars = drawn(figures.indirect_figures, photos, cams, indirect, 0.5, 99.0, "test",
                         tmp_path, shared_scale=True)
    assert sorted(bars) == ["CAM (scaled to [0, 1])", "attribution (signed), shared scale",
                            "overlay value, shared scale"]
    overlays = [im for im in images if im.get_clim() == (-0.5, 1.0)]
    assert len(overlays) == len(CAMS)
    images, bars = drawn(figures.noise_figure, photos, ig, ig / 2, 4, 0.1, 99.0, "test",
                         tmp_path, shared_scale=True)
    v = np.percentile(np.abs(np.concatenate([ig.ravel(), ig.ravel() / 2])), 99.0)
    signed = [im for im in images if im.get_cmap().name == "RdBu_r"]
    assert len(signed) == 4 and all(np.allclose(im.get_clim(), (-v, v)) for im in signed)
    assert bars == ["attribution (signed), shared scale"]
