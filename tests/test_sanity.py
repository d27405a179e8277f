"""Cascading model randomisation (Adebayo et al. 2018) on tiny models."""
import keras
import numpy as np
import pytest
from scipy.stats import spearmanr
from skimage.metrics import structural_similarity

from xai import metrics

from helpers import conv1d_net, gap_net


def seq2d(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((10, 10, 2)),
                             keras.layers.Conv2D(4, 3, padding="same", activation="relu",
                                                 name="c1"),
                             keras.layers.Flatten(), keras.layers.Dense(3, name="out")])


def nested(seed=0):
    """A functional model around a nested Sequential feature extractor."""
    keras.utils.set_random_seed(seed)
    inner = keras.Sequential([keras.Input((8, 8, 2)),
                              keras.layers.Conv2D(4, 3, padding="same", activation="relu",
                                                  name="inner_conv")], name="inner")
    inp = keras.Input((8, 8, 2))
    h = keras.layers.GlobalAveragePooling2D()(inner(inp))
    return keras.Model(inp, keras.layers.Dense(3, name="head")(h))


def test_spearman_and_ssim_match_scipy_and_skimage(rng):
    a, b = rng.random((3, 8, 8)), rng.random((3, 8, 8))
    b[0] = a[0] ** 3  # monotone: rank correlation 1
    ref = [spearmanr(p.ravel(), q.ravel())[0] for p, q in zip(a, b)]
    np.testing.assert_allclose(metrics.spearman(a, b), ref, atol=1e-12)
    assert metrics.spearman(a, b)[0] == pytest.approx(1.0)
    # SSIM of maps scaled by their max, 7-point window
    ref = [structural_similarity(p / p.max(), q / q.max(), data_range=1.0, win_size=7)
           for p, q in zip(a, b)]
    np.testing.assert_allclose(metrics.map_ssim(a, b), ref, atol=1e-12)
    # constant maps never give NaN: equal constants 1, otherwise 0
    z = np.zeros((2, 8, 8))
    assert metrics.spearman(z, z).tolist() == [1.0, 1.0]
    assert metrics.spearman(z, a[:2]).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("build,shape,method,options", [
    (gap_net, (12, 12, 3), "saliency", {}),
    (seq2d, (10, 10, 2), "gradcam", {"layer": "c1"}),
    (conv1d_net, (20, 1), "saliency", {}),
    (nested, (8, 8, 2), "saliency", {}),
])
def test_cascade_decorrelates_gradients_and_leaves_the_model_alone(build, shape, method, options,
                                                                   rng):
    model = build()
    before = [w.copy() for w in model.get_weights()]
    x = rng.normal(size=(6,) + shape).astype(np.float32)
    table = metrics.sanity_check(model, x, method, seed=0, **options)
    names = metrics.randomisable_layers(model)
    if build is nested:
        assert "inner_conv" in names
    # one step per layer with weights, from the top down, after the untouched step 0
    steps = table.drop_duplicates("step")
    assert steps["layer"].tolist() == ["none"] + names[::-1]
    first = table[table.step == 0].set_index("metric")["mean"]
    np.testing.assert_allclose(first[["spearman", "spearman_abs", "ssim"]], 1.0, atol=1e-6)
    last = table[table.step == table.step.max()].set_index("metric")["mean"]
    assert last["spearman_abs"] < 0.6 and last["ssim"] < 0.6
    for w, w0 in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, w0)


def test_a_map_that_ignores_the_model_fails_the_check(rng):
    """An 'edge detector' (|x| summed over channels) never changes: correlation 1 at every step,
    while saliency's falls -- the contrast the check is for."""
    model = gap_net()
    x = rng.normal(size=(4, 12, 12, 3)).astype(np.float32)

    def edges(m, xb, target=None):
        return np.abs(xb).sum(-1)

    fixed = metrics.sanity_check(model, x, edges)
    np.testing.assert_allclose(fixed["mean"], 1.0, atol=1e-9)
    grads = metrics.sanity_check(model, x, "saliency")
    final = grads[grads.step == grads.step.max()].set_index("metric")["mean"]
    assert final["spearman_abs"] < 0.6


def test_randomisation_is_seeded_and_targets_stay_fixed(rng):
    model = gap_net()
    x = rng.normal(size=(3, 12, 12, 3)).astype(np.float32)
    a = metrics.sanity_check(model, x, "saliency", seed=1, layers=["head"])
    b = metrics.sanity_check(model, x, "saliency", seed=1, layers=["head"])
    np.testing.assert_allclose(a[["mean", "std"]], b[["mean", "std"]], atol=1e-6)
    assert a["step"].max() == 1
    c = metrics.sanity_check(model, x, "saliency", seed=2, layers=["head"])
    assert not np.allclose(a["mean"], c["mean"])
    with pytest.raises(ValueError, match="gap"):
        metrics.sanity_check(model, x, "saliency", layers=["gap"])  # no weights


def test_a_head_that_is_not_dense_is_randomised_too(rng):
    """xai's logit probe copies a non-Dense softmax head: the check must not keep the copy."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 2)),
                              keras.layers.Conv2D(4, 3, activation="relu", name="c1"),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.EinsumDense("ab,bc->ac", output_shape=3,
                                                       activation="softmax", name="head")])
    x = rng.normal(size=(4, 6, 6, 2)).astype(np.float32)
    table = metrics.sanity_check(model, x, "saliency", layers=["head"])
    assert table.query("step == 1 and metric == 'spearman'")["mean"].iloc[0] < 0.9


def test_batchnorm_layers_are_listed_only_on_request(rng):
    """Adebayo et al. randomise the weights that carry the class evidence; batch-norm layers
    are listed apart (batchnorm=True) and can still be named explicitly."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 2)),
                              keras.layers.Conv2D(4, 3, padding="same", name="c1"),
                              keras.layers.BatchNormalization(name="bn"),
                              keras.layers.ReLU(),
                              keras.layers.DepthwiseConv2D(3, padding="same", name="dw"),
                              keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, name="head")])
    assert metrics.randomisable_layers(model) == ["c1", "dw", "head"]
    assert metrics.randomisable_layers(model, batchnorm=True) == ["c1", "bn", "dw", "head"]
    x = rng.normal(size=(2, 8, 8, 2)).astype(np.float32)
    table = metrics.sanity_check(model, x, "saliency")
    assert table.drop_duplicates("step")["layer"].tolist() == ["none", "head", "dw", "c1"]
    explicit = metrics.sanity_check(model, x, "saliency", layers=["head", "bn"])
    assert explicit.drop_duplicates("step")["layer"].tolist() == ["none", "head", "bn"]
