"""ROAD's noisy linear imputation (Rong et al. 2022) and the MoRF / LeRF curves."""
import keras
import numpy as np
import pytest

from xai import metrics


def test_a_lone_hole_takes_the_weighted_mean_of_its_neighbours(rng):
    img = rng.random((3, 3, 2))
    hole = np.zeros((3, 3), bool)
    hole[1, 1] = True
    out = metrics.noisy_linear_impute(img, hole)
    w = np.array([[1, 2, 1], [2, 0, 2], [1, 2, 1]]) / 12  # diagonal 1/12, direct 1/6
    np.testing.assert_allclose(out[1, 1], (img * w[..., None]).sum(axis=(0, 1)))
    np.testing.assert_array_equal(out[~hole], img[~hole])
    # a corner hole: only its 3 neighbours inside, weights renormalised (1/6, 1/6, 1/12)
    corner = np.zeros((3, 3), bool)
    corner[0, 0] = True
    out = metrics.noisy_linear_impute(img, corner)
    expected = (img[0, 1] / 6 + img[1, 0] / 6 + img[1, 1] / 12) / (5 / 12)
    np.testing.assert_allclose(out[0, 0], expected)


def test_every_imputed_point_is_the_mean_of_its_imputed_neighbours(rng):
    img = rng.random((10, 12, 3))
    removed = rng.random((10, 12)) < 0.6
    out = metrics.noisy_linear_impute(img, removed)
    padded = np.pad(out, ((1, 1), (1, 1), (0, 0)))
    inside = np.pad(np.ones((10, 12)), 1)
    w = {(-1, 0): 1 / 6, (1, 0): 1 / 6, (0, -1): 1 / 6, (0, 1): 1 / 6,
         (-1, -1): 1 / 12, (-1, 1): 1 / 12, (1, -1): 1 / 12, (1, 1): 1 / 12}
    for r, c in zip(*np.nonzero(removed)):
        num = sum(wt * padded[r + 1 + dr, c + 1 + dc] for (dr, dc), wt in w.items())
        den = sum(wt * inside[r + 1 + dr, c + 1 + dc] for (dr, dc), wt in w.items())
        np.testing.assert_allclose(out[r, c], num / den, atol=1e-10)
    # a linear ramp is reproduced exactly in the interior (the mean of a ramp is the ramp)
    ramp = np.broadcast_to(np.arange(12.0)[None, :, None], (10, 12, 1)).copy()
    hole = np.zeros((10, 12), bool)
    hole[3:7, 4:9] = True
    np.testing.assert_allclose(metrics.noisy_linear_impute(ramp, hole), ramp, atol=1e-10)
    # signals: the mean of the two neighbours; noise is seeded and only on removed points
    sig = rng.random((6, 1))
    gap = np.array([False, False, True, False, False, False])
    np.testing.assert_allclose(metrics.noisy_linear_impute(sig, gap)[2], (sig[1] + sig[3]) / 2)
    a = metrics.noisy_linear_impute(img, removed, 0.1, np.random.default_rng(0))
    b = metrics.noisy_linear_impute(img, removed, 0.1, np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[~removed], img[~removed])
    assert 0.05 < np.std(a[removed] - out[removed]) < 0.15
    with pytest.raises(ValueError, match="every point"):
        metrics.noisy_linear_impute(img, np.ones((10, 12), bool))


def test_road_ranks_an_informative_map_above_a_random_one():
    """Class set by a bright square on a flat image: removing the square (MoRF of the good map)
    imputes it from the flat background and kills the class; LeRF keeps it."""
    keras.utils.set_random_seed(0)
    size, n = 12, 8
    w = np.zeros((size, size, 1, 2), np.float32)
    w[4:8, 4:8, 0, 0] = 1.0
    model = keras.Sequential([keras.Input((size, size, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax", use_bias=True)])
    model.layers[-1].set_weights([w.reshape(-1, 2), np.array([-4.0, 0.0], np.float32)])
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.05, (n, size, size, 1)).astype(np.float32)
    x[:, 4:8, 4:8] += 1.0
    good = np.zeros((n, size, size))
    good[:, 4:8, 4:8] = 1.0 + rng.random((n, 4, 4))
    fractions = (0.15, 0.3, 0.5)
    r_good = metrics.road(model, x, good, fractions, target=0, seed=0)
    r_rand = metrics.road(model, x, rng.random((n, size, size)), fractions, target=0, seed=0)
    assert r_good["morf"].shape == (n, 3)
    assert (r_good["morf"][:, 1:] < 0.1).all()  # the square (11 % of the points) is gone
    assert (r_good["lerf"] > 0.9).all()
    assert r_good["gap"].mean() > r_rand["gap"].mean() + 0.3
    with pytest.raises(ValueError, match="fractions"):
        metrics.road(model, x, good, (0.0, 0.5))
