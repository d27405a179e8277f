"""MuFidelity (Bhatt et al. 2020) against closed forms on linear models and a NumPy
recomputation."""
import keras
import numpy as np
import pytest

from xai import metrics

from helpers import gap_net


def linear_logits(shape, classes=3, seed=0):
    """logits = W . flatten(x) + c (no softmax), so removing S lowers class c's logit by exactly
    Σ_{i ∈ S} w_ic (x_i − b_i)."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape), keras.layers.Flatten(),
                             keras.layers.Dense(classes, name="out")])


@pytest.mark.parametrize("shape,grid", [((6, 6, 2), 3), ((12, 1), 4)])
def test_linear_model_gradient_times_input_is_perfect(shape, grid, rng):
    model = linear_logits(shape)
    x = rng.normal(size=(5,) + shape).astype(np.float32)
    b = 0.3
    t = np.array([0, 1, 2, 0, 1])
    w = model.get_layer("out").kernel.numpy()[:, t].T.reshape((5,) + shape)
    good = w * (x - b)  # attribution of x's shape
    mu = metrics.mufidelity(model, x, good, grid=grid, fraction=0.3, n_subsets=24, target=t,
                            baseline=b, seed=0)
    np.testing.assert_allclose(mu, 1.0, atol=1e-4)
    np.testing.assert_allclose(metrics.mufidelity(model, x, -good, grid=grid, fraction=0.3,
                                                  n_subsets=24, target=t, baseline=b), -1.0,
                               atol=1e-4)
    random_map = rng.random((5,) + shape[:-1])
    bad = metrics.mufidelity(model, x, random_map, grid=grid, fraction=0.3, n_subsets=24,
                             target=t, baseline=b)
    assert bad.mean() < 0.5 and np.all(bad < 0.999)


def test_terms_match_a_numpy_recomputation(rng):
    model = gap_net(head="softmax")
    x = rng.normal(size=(3, 12, 12, 3)).astype(np.float32)
    maps = rng.random((3, 12, 12))
    out = metrics.mufidelity(model, x, maps, grid=4, fraction=0.25, n_subsets=10,
                             score="probability", seed=3, batch_size=7, return_terms=True)
    subsets, cells = out["subsets"], out["cells"]
    assert subsets.shape == (10, 16) and (subsets.sum(1) == 4).all()
    # the 4x4 grid over 12x12: 3x3 blocks, row-major
    np.testing.assert_array_equal(cells.reshape(12, 12)[::3, ::3], np.arange(16).reshape(4, 4))
    p = model.predict(x, verbose=0)
    t = p.argmax(1)
    for i in range(3):
        removed = subsets[:, cells].reshape(10, 12, 12)
        xs = np.where(removed[..., None], 0.0, x[i]).astype(np.float32)
        drop = p[i, t[i]] - model.predict(xs, verbose=0)[:, t[i]]
        attr = (maps[i][None] * removed).sum(axis=(1, 2))
        np.testing.assert_allclose(out["drop"][i], drop, atol=1e-5)
        np.testing.assert_allclose(out["attribution"][i], attr, rtol=1e-10)
        assert out["mufidelity"][i] == pytest.approx(np.corrcoef(attr, drop)[0, 1], abs=1e-4)


def test_constant_map_and_bad_input(rng):
    model = linear_logits((12, 1))
    x = rng.normal(size=(2, 12, 1)).astype(np.float32)
    # every S has the same size, so a constant map has constant mass: correlation 0, not NaN
    assert metrics.mufidelity(model, x, np.ones((2, 12)), grid=4).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="grid"):
        metrics.mufidelity(model, x, np.ones((2, 12)), grid=13)
    with pytest.raises(ValueError, match="fraction"):
        metrics.mufidelity(model, x, np.ones((2, 12)), fraction=0)
    with pytest.raises(ValueError, match="n_subsets"):
        metrics.mufidelity(model, x, np.ones((2, 12)), n_subsets=1)


def strided_net(shape, seed=0):
    """A cheap CNN on large inputs: one strided convolution, global pooling, logits."""
    keras.utils.set_random_seed(seed)
    conv = keras.layers.Conv2D if len(shape) == 3 else keras.layers.Conv1D
    return keras.Sequential([keras.Input(shape), conv(4, 8, strides=8, activation="relu"),
                             keras.layers.Flatten(), keras.layers.Dense(3)])


@pytest.mark.parametrize("shape,cells", [((224, 224, 1), 64), ((150, 225, 1), 54),
                                         ((40, 1), 8)])
def test_a_constant_map_scores_zero_on_any_input_size(shape, cells, rng):
    """Equal cells: every set S has the same pixel area, so a constant map has no correlation
    with the drop (with the old 9 unequal cells per side it tracked the area and scored > 0)."""
    model = strided_net(shape)
    x = rng.random((2,) + shape).astype(np.float32)
    out = metrics.mufidelity(model, x, np.full((2,) + shape[:-1], 0.3), n_subsets=16,
                             return_terms=True)
    assert out["mufidelity"].tolist() == [0.0, 0.0]
    assert out["subsets"].shape == (16, cells)
    assert len(set(np.bincount(out["cells"]).tolist())) == 1  # cells of equal size


def test_a_grid_that_does_not_divide_the_input_is_refused():
    assert metrics.grid_cells((224, 224), "auto").max() + 1 == 64
    np.testing.assert_array_equal(metrics.grid_cells((6,), 3), [0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match=r"grid=9 does not divide.*\[2, 4, 7, 8, 14, 16\]"):
        metrics.grid_cells((224, 224), 9)
    with pytest.raises(ValueError, match=r"grid=9 does not divide.*\[2, 4, 5, 8, 10\]"):
        metrics.mufidelity(strided_net((40, 1)), np.ones((1, 40, 1)), np.ones((1, 40)), grid=9)
    with pytest.raises(ValueError, match="no divisor"):
        metrics.grid_cells((11,), "auto")
    with pytest.raises(ValueError, match="'auto' or a positive integer"):
        metrics.grid_cells((12,), "fine")
