"""Tests for xai.representations (activations, strongest channels, PCA embedding) and the
figures of xai.viz.representations."""
import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from xai import representations as rep
from xai import viz

from helpers import conv1d_net, gap_net


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _nested():
    keras.utils.set_random_seed(3)
    inner = keras.Sequential([keras.Input((8, 8, 2)),
                              keras.layers.Conv2D(4, 3, padding="same", activation="relu",
                                                  name="inner_conv"),
                              keras.layers.GlobalAveragePooling2D()], name="inner")
    outer = keras.Sequential([keras.Input((8, 8, 2)), keras.layers.Rescaling(0.5, name="half"),
                              inner, keras.layers.Dense(3, activation="softmax")])
    return outer, inner


# ------------------------------------------------------------------------------ activations
def test_activations_equal_a_hand_built_sub_model_functional(rng):
    net = gap_net(seed=2)
    x = rng.normal(size=(5, 12, 12, 3)).astype(np.float32)
    for layer in ("conv_a", "conv_b", 2, net.get_layer("conv_a")):
        name = layer.name if hasattr(layer, "name") else (layer if isinstance(layer, str)
                                                          else net.layers[layer].name)
        ref = keras.Model(net.inputs, net.get_layer(name).output)(x).numpy()
        got = rep.activations(net, x, layer, progress=False)
        assert got.dtype == np.float32 and got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rep.activations(net, x, None, progress=False),
                               keras.Model(net.inputs, net.get_layer("conv_b").output)(x).numpy(),
                               rtol=1e-5, atol=1e-6)  # None: the CAM layer, the last conv


def test_activations_of_a_sequential_1d_model(rng):
    net = conv1d_net(seed=4)
    x = rng.normal(size=(6, 20, 1)).astype(np.float32)
    h = x
    for layer in net.layers[:2]:  # c1 then c2, by hand
        h = layer(h)
    np.testing.assert_allclose(rep.activations(net, x, "c2", progress=False), h.numpy(),
                               rtol=1e-5, atol=1e-6)


def test_activations_inside_a_nested_model(rng):
    outer, inner = _nested()
    x = rng.normal(size=(4, 8, 8, 2)).astype(np.float32)
    conv = inner.get_layer("inner_conv")
    ref = conv(0.5 * x).numpy()  # Rescaling(0.5) then the inner conv
    np.testing.assert_allclose(rep.activations(outer, x, "inner_conv", progress=False), ref,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rep.activations(outer, x, conv, progress=False), ref,
                               rtol=1e-5, atol=1e-6)


def test_activations_batched_equal_looped_and_bad_input(rng):
    net = gap_net(seed=5)
    x = rng.normal(size=(7, 12, 12, 3)).astype(np.float32)
    whole = rep.activations(net, x, "conv_a", batch_size=32, progress=False)
    batched = rep.activations(net, x, "conv_a", batch_size=3, progress=False)
    looped = np.concatenate([rep.activations(net, x[i:i + 1], "conv_a", progress=False)
                             for i in range(len(x))])
    np.testing.assert_allclose(batched, whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(looped, whole, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        rep.activations(net, x, "conv_a", batch_size=0)
    with pytest.raises(ValueError, match="x\\[None\\]"):
        rep.activations(net, x[0, 0, 0], "conv_a")
    with pytest.raises(ValueError, match="not a spatial feature map"):
        rep.activations(net, x, "head")


# ------------------------------------------------------------------------------ channels
def test_strongest_channels_rank_by_mean_activation_ties_by_index():
    means = np.array([0.5, 2.0, -1.0, 2.0, 0.1, 3.0])
    acts = np.zeros((4, 3, 6))
    acts[...] = means
    acts[0, 0] += [4, -4, 0, 4, -4, 0]  # one position shifts the means by ±4/12
    means = acts.reshape(-1, 6).mean(0)
    expected = np.argsort(-means, kind="stable")
    got = rep.strongest_channels(acts, 4)
    np.testing.assert_array_equal(got, expected[:4])
    assert list(got) == [5, 3, 1, 0]  # 3 (2⅓) before 1 (1⅔); 5 (3) first
    tied = rep.strongest_channels(np.ones((5, 3)), 3)
    np.testing.assert_array_equal(tied, [0, 1, 2])  # all equal: index order
    assert len(rep.strongest_channels(acts, 99)) == 6
    with pytest.raises(ValueError, match="one sample"):
        rep.strongest_channels(np.ones(4), 2)
    with pytest.raises(ValueError, match="positive integer"):
        rep.strongest_channels(acts, 0)


# ------------------------------------------------------------------------------ PCA
def _pca_reference(X, k):
    """Principal axes as eigenvectors of the covariance matrix (not an SVD)."""
    Xc = X - X.mean(0)
    w, v = np.linalg.eigh(Xc.T @ Xc / (len(X) - 1))
    order = np.argsort(w)[::-1]
    return v[:, order[:k]].T, w[order] / w.sum()


def test_pca_matches_the_covariance_eigenvectors_with_the_sign_convention(rng):
    X = rng.normal(size=(60, 5)) @ np.diag([5.0, 3.0, 2.0, 1.0, 0.5]) + 7.0
    points, info = rep.embed(X, n_components=3)
    ref, ratio = _pca_reference(X, 3)
    comps = info["components"]
    for c, r in zip(comps, ref):  # same axis up to sign
        assert abs(abs(c @ r) - 1.0) < 1e-8
    big = comps[np.arange(3), np.argmax(np.abs(comps), axis=1)]
    assert (big > 0).all()  # the largest-|loading| entry is positive
    np.testing.assert_allclose(points, (X - X.mean(0)) @ comps.T, atol=1e-10)
    np.testing.assert_allclose(info["explained_variance_ratio"], ratio[:3], rtol=1e-8)
    np.testing.assert_allclose(points.var(0, ddof=1) / X.var(0, ddof=1).sum(), ratio[:3],
                               rtol=1e-8)
    flipped, _ = rep.embed(-X, n_components=3)  # the sign convention, not the data, decides
    np.testing.assert_allclose(np.abs(flipped), np.abs(points), atol=1e-10)
    np.testing.assert_allclose(rep.embed(X, n_components=3)[0], points)  # deterministic


def test_embed_pools_feature_maps_by_mean_or_flattens(rng):
    maps = rng.normal(size=(10, 4, 4, 3))
    _, info = rep.embed(maps, pool="mean")
    assert info["components"].shape == (2, 3)
    np.testing.assert_allclose(info["mean"], maps.mean(axis=(1, 2)).mean(0))
    _, flat = rep.embed(maps, pool="flatten")
    assert flat["components"].shape == (2, 48)
    with pytest.raises(ValueError, match="pool must be"):
        rep.embed(maps, pool="max")
    with pytest.raises(ValueError, match="method must be"):
        rep.embed(maps, method="umap")
    with pytest.raises(ValueError, match="n_components"):
        rep.embed(maps, n_components=4)


def test_nearest_centroid(rng):
    pts = np.array([[0.0, 0], [0, 1], [10, 0], [10, 1], [9, 0.5], [1, 0.5]])
    y = np.array([0, 0, 1, 1, 0, 1])  # centroids (3, 0.5) and (7, 0.5)
    np.testing.assert_array_equal(rep.nearest_centroid(pts, y), [0, 0, 1, 1, 1, 0])


# ------------------------------------------------------------------------------ figures
def _colorbars(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def test_feature_maps_figure_has_a_row_per_layer_and_labelled_colour_bars(rng):
    net = gap_net(seed=6)
    x = rng.normal(size=(1, 12, 12, 3)).astype(np.float32)
    fig = viz.feature_maps_figure(net, x, ["conv_a", "conv_b"], n_channels=4, image=x[0],
                                  title="t")
    bars = _colorbars(fig)
    panels = [ax for ax in fig.axes if ax not in bars]
    assert len(bars) == 2 and all(b.get_ylabel() == "activation" for b in bars)
    assert len(panels) == 1 + 2 * 4  # the input + 4 channels per layer
    assert panels[0].get_title() == "input"
    acts = rep.activations(net, x, "conv_b", progress=False)[0]
    expected = [f"ch {k}" for k in rep.strongest_channels(acts, 4)]
    assert [ax.get_title() for ax in panels[5:9]] == expected
    assert panels[1].get_ylabel().startswith("conv_a") and panels[5].get_ylabel().startswith(
        "conv_b")
    with pytest.raises(ValueError, match="ONE sample"):
        viz.feature_maps_figure(net, np.repeat(x, 2, 0), ["conv_a"])


def test_feature_maps_figure_draws_a_uint8_photo_in_0_1(rng):
    """A uint8 photo is drawn as itself (/ 255), not clipped to white as floats above 1."""
    net = gap_net(seed=6)
    photo = rng.integers(0, 256, size=(12, 12, 3), dtype=np.uint8)
    x = photo[None].astype(np.float32) / 255
    fig = viz.feature_maps_figure(net, x, ["conv_b"], n_channels=2, image=photo)
    drawn = fig.axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(drawn, photo / 255.0, atol=1e-6)


def test_feature_maps_figure_for_1d_signals(rng):
    net = conv1d_net(seed=7)
    x = rng.normal(size=(1, 20, 1)).astype(np.float32)
    fig = viz.feature_maps_figure(net, x, ["c1", "c2"], n_channels=3, image=x[0, :, 0])
    bars = _colorbars(fig)
    panels = [ax for ax in fig.axes if ax not in bars]
    assert len(bars) == 2 and len(panels) == 1 + 6
    assert len(panels[0].lines) == 1  # the signal as a line
    assert panels[1].images[0].get_array().shape == (1, 20)  # a 1-row heat strip


def test_embedding_figure_panels_legends_and_axis_labels(rng):
    pts = rng.normal(size=(30, 2))
    y = np.repeat([0, 1, 2], 10)
    ok = np.ones(30, bool)
    ok[[0, 1, 12]] = False
    fig = viz.embedding_figure(pts, y, ok, class_names=["a", "b", "c"],
                               info={"explained_variance_ratio": [0.5, 0.25]})
    a, b = fig.axes
    assert [t.get_text() for t in a.get_legend().get_texts()] == ["a (n=10)", "b (n=10)",
                                                                 "c (n=10)"]
    assert [t.get_text() for t in b.get_legend().get_texts()] == [
        "correct (n=27)", "misclassified, true a (n=2)", "misclassified, true b (n=1)"]
    assert a.get_xlabel() == "PC 1 (50.0 % variance)" and b.get_ylabel() == \
        "PC 2 (25.0 % variance)"
    assert "3 of 30 wrong" in b.get_title()
    assert viz.embedding_figure(pts, y, ok).axes[0].get_xlabel() == "component 1"
    with pytest.raises(ValueError, match="n_components=2"):
        viz.embedding_figure(rng.normal(size=(30, 3)), y, ok)


# ------------------------------------------------------------------------------ study glue
def test_cluster_table_counts_and_nearest_centroid_shares():
    from xai.studies.embeddings import cluster_table

    # class 0 around x = 0, class 1 around x = 10; sample 2 (class 0) lies in class 1's cluster
    pts = np.array([[0.0, 0], [1, 0], [9, 0], [10, 0], [11, 0], [10, 1]])
    y = np.array([0, 0, 0, 1, 1, 1])        # centroids (3.33, 0) and (10.33, 0.33)
    pred = np.array([0, 0, 1, 1, 0, 1])     # sample 2: false positive, sample 4: false negative
    t = cluster_table(pts, pts, y, pred, ["a", "b"], "L").set_index(["true class", "outcome"])
    assert t.loc[("a", "correct"), "n"] == 2 and t.loc[("a", "misclassified"), "n"] == 1
    assert t.loc[("a", "misclassified"), "nearest predicted class (2-D)"] == 1.0
    assert t.loc[("a", "misclassified"), "nearest own class (channels)"] == 0.0
    assert t.loc[("b", "misclassified"), "nearest own class (2-D)"] == 1.0  # sample 4 at x = 11
    assert t.loc[("b", "correct"), "nearest own class (2-D)"] == 1.0
    pooled = cluster_table(pts, pts, y, pred, ["a", "b"], by_class=False).set_index("outcome")
    assert pooled.loc["misclassified", "n"] == 2
    assert pooled.loc["misclassified", "nearest own class (2-D)"] == 0.5
    assert pooled.loc["correct", "nearest own class (2-D)"] == 1.0


def test_layer_embeddings_save_figures_and_match_embed(rng, tmp_path):
    from xai.studies.embeddings import layer_embeddings

    net = gap_net(seed=8, classes=2)
    x = rng.normal(size=(12, 12, 12, 3)).astype(np.float32)
    y = np.array([0, 1] * 6)
    pred = np.argmax(net.predict(x, verbose=0), -1)
    table, infos = layer_embeddings(net, x, y, pred, ["conv_a", "conv_b"], ["u", "v"], tmp_path,
                                    progress=False, pools=["mean", "flatten"], label="T, ")
    assert (tmp_path / "embedding_conv_a.png").is_file()
    assert (tmp_path / "embedding_conv_b.png").is_file()
    assert list(table.groupby("layer", sort=False)["n"].sum()) == [12, 12]
    _, ref = rep.embed(rep.activations(net, x, "conv_b", progress=False), pool="flatten")
    np.testing.assert_allclose(infos["conv_b"]["explained_variance_ratio"],
                               ref["explained_variance_ratio"])
    assert infos["conv_b"]["features"].shape == (12, 12 * 12 * 5)
    assert set(table.loc[table["layer"] == "conv_a", "pool"]) == {"mean"}
    with pytest.raises(ValueError, match="one pool"):
        layer_embeddings(net, x, y, pred, ["conv_a"], ["u", "v"], tmp_path, pools=[],
                         progress=False)
