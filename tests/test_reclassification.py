"""xai.metrics.reclassification: masked re-classification with same-area random and centred
controls (exact counts, centring, per-sample seeds), checked on a model whose class is decided
by the mean of a known region."""
import keras
import numpy as np
import pytest

from xai.metrics.reclassification import centre_region, masked_reclassification, random_region

from helpers import conv1d_net, gap_net

KEYS = ("area", "kept", "drop", "kept_random", "drop_random", "kept_centre", "drop_centre")
SHAPES = [(40,), (41,), (7, 7), (8, 8), (7, 9), (10, 20), (33, 24), (224, 224)]


@pytest.mark.parametrize("shape", SHAPES)
def test_both_controls_have_exactly_k_points(shape):
    size = int(np.prod(shape))
    for k in sorted({0, 1, 2, 3, size // 3, size // 2 + 1, size - 1, size}):
        assert centre_region(shape, k).sum() == k
        assert random_region(shape, k, seed=k).sum() == k
        assert random_region(shape, k).shape == shape


@pytest.mark.parametrize("shape", SHAPES[:-1])
def test_centre_box_is_centred(shape):
    centre = (np.array(shape) - 1) / 2
    for k in range(1, int(np.prod(shape)) + 1):
        region = centre_region(shape, k)
        assert np.abs(np.argwhere(region).mean(axis=0) - centre).max() <= 0.5 + 1e-9
        # growing boxes are nested
        assert not (centre_region(shape, k - 1) & ~region).any()


def test_centre_box_is_a_centred_block_when_k_fills_it():
    block = np.zeros((8, 8), bool)
    block[2:6, 2:6] = True
    np.testing.assert_array_equal(centre_region((8, 8), 16), block)
    interval = np.zeros(40, bool)
    interval[15:25] = True
    np.testing.assert_array_equal(centre_region(40, 10), interval)
    # a wide input gives a wide box: the aspect ratio follows the input's
    rows, cols = np.nonzero(centre_region((10, 20), 60))
    assert np.ptp(rows) + 1 == 6 and np.ptp(cols) + 1 == 10


def test_random_region_is_seeded_smooth_and_nested():
    a, b = random_region((56, 56), 500, seed=1), random_region((56, 56), 500, seed=2)
    assert (a != b).sum() > 100
    np.testing.assert_array_equal(a, random_region((56, 56), 500, seed=1))
    assert not (random_region((56, 56), 200, seed=1) & ~a).any()
    # upsampled from a 7 x 7 grid: a few blobs, so far fewer boundary pairs than i.i.d. points
    edges = (a[1:] != a[:-1]).sum() + (a[:, 1:] != a[:, :-1]).sum()
    iid = np.zeros(56 * 56, bool)
    iid[np.random.default_rng(0).permutation(56 * 56)[:500]] = True
    iid = iid.reshape(56, 56)
    assert edges < 0.3 * ((iid[1:] != iid[:-1]).sum() + (iid[:, 1:] != iid[:, :-1]).sum())


def test_region_arguments_are_checked():
    with pytest.raises(ValueError, match="k must be an integer number of points in 0..16"):
        centre_region((4, 4), 17)
    with pytest.raises(ValueError, match="1-D"):
        random_region((2, 2, 2), 1)


# ----------------------------------------------------------------- the region-mean classifier

REGION = (slice(0, 3), slice(0, 3))  # the model looks at the mean of the top-left 3 x 3
SCALE = 8.0


def region_mean_model():
    """Class 0 wins when the mean of the 6 x 6 input's top-left 3 x 3 block exceeds 0.5:
    logits [SCALE * mean(block), SCALE * 0.5]."""
    inp = keras.Input((6, 6, 1))
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inp))
    model = keras.Model(inp, out)
    w = np.zeros((6, 6, 2), np.float32)
    w[REGION + (0,)] = SCALE / 9
    model.layers[-1].set_weights([w.reshape(36, 2), np.array([0.0, SCALE / 2], np.float32)])
    return model


def p0(block_mean):
    return 1.0 / (1.0 + np.exp(SCALE * 0.5 - SCALE * block_mean))


@pytest.fixture(scope="module")
def region_model():
    return region_mean_model()


def test_map_on_the_region_keeps_the_class_and_elsewhere_loses_it(region_model):
    x = np.random.default_rng(0).uniform(0.7, 1.0, (2, 6, 6, 1)).astype(np.float32)
    on, off = np.zeros((6, 6)), np.zeros((6, 6))
    on[0:3, 0:2] = 0.9  # 6 of the block's 9 points
    on[0, 0] = 1.0
    off[3:, 3:] = 1.0
    base = 0.2
    r = masked_reclassification(region_model, x, np.stack([on, off]), baseline=base)
    assert set(r) == set(KEYS) and all(r[k].dtype == np.float64 and r[k].shape == (2,)
                                       for k in KEYS)
    np.testing.assert_array_equal(r["area"], [6 / 36, 9 / 36])
    np.testing.assert_array_equal(r["kept"], [1.0, 0.0])
    clean = p0(x[:, 0:3, 0:3, 0].mean(axis=(1, 2)))
    kept_on = (x[0, 0:3, 0:2, 0].sum() + 3 * base) / 9
    np.testing.assert_allclose(r["drop"], [clean[0] - p0(kept_on), clean[1] - p0(base)],
                               rtol=1e-5, atol=1e-6)
    # the controls, by hand from the same regions
    for i, k in enumerate((6, 9)):
        for name, region in (("centre", centre_region((6, 6), k)),
                             ("random", random_region((6, 6), k, seed=0))):
            masked = np.where(region, x[i, ..., 0], base)[0:3, 0:3].mean()
            assert r["kept_" + name][i] == float(masked > 0.5)
            np.testing.assert_allclose(r["drop_" + name][i], clean[i] - p0(masked),
                                       rtol=1e-5, atol=1e-6)


def test_empty_region_is_judged_on_the_all_baseline_input(region_model):
    x = np.ones((2, 6, 6, 1), np.float32)
    maps = np.zeros((2, 6, 6))
    maps[1] = -1.0  # negative values count as 0
    for base, expected in ((0.0, 0.0), (1.0, 1.0)):
        r = masked_reclassification(region_model, x, maps, baseline=base)
        np.testing.assert_array_equal(r["area"], 0.0)
        for key in ("kept", "kept_random", "kept_centre"):
            np.testing.assert_array_equal(r[key], expected)
        np.testing.assert_allclose(r["drop"], p0(1.0) - p0(base), atol=1e-6)


def test_threshold_applies_to_the_scaled_map(region_model):
    x = np.ones((1, 6, 6, 1), np.float32)
    m = np.arange(36, dtype=float).reshape(1, 6, 6) * 10  # scaled: p / 35
    r = masked_reclassification(region_model, x, m, threshold=0.5)
    assert r["area"][0] == (np.arange(36) / 35 >= 0.5).sum() / 36
    assert masked_reclassification(region_model, x, m, threshold=1.0)["area"][0] == 1 / 36


# ------------------------------------------------------------------ batching and seeds


def _smooth_maps(n, shape, seed):
    from xai.maps import min_max, upsample

    g = np.random.default_rng(seed).uniform(size=(n, 3, 3) if len(shape) == 2 else (n, 4))
    return min_max(upsample(g.astype(np.float32), shape).numpy())


@pytest.mark.parametrize("kind", ["image", "signal"])
def test_batched_equals_looped_and_order_does_not_matter(kind):
    rng = np.random.default_rng(1)
    if kind == "image":
        model, x = gap_net(seed=3), rng.normal(size=(7, 12, 12, 3)).astype(np.float32)
    else:
        model, x = conv1d_net(seed=3), rng.normal(size=(7, 20, 1)).astype(np.float32)
    maps = _smooth_maps(7, x.shape[1:-1], seed=2)
    seeds = [11, 12, 13, 14, 15, 16, 17]
    whole = masked_reclassification(model, x, maps, threshold=0.5, seeds=seeds, batch_size=64)
    assert 0 < whole["area"].min() and whole["area"].max() < 1
    looped = [masked_reclassification(model, x[i:i + 1], maps[i:i + 1], threshold=0.5,
                                      seeds=seeds[i], batch_size=1) for i in range(7)]
    perm = rng.permutation(7)
    shuffled = masked_reclassification(model, x[perm], maps[perm], threshold=0.5,
                                       seeds=[seeds[i] for i in perm], batch_size=4)
    for key in KEYS:
        tol = dict(rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.concatenate([r[key] for r in looped]), whole[key], **tol)
        np.testing.assert_allclose(shuffled[key], whole[key][perm], **tol)


def test_seeds_change_only_the_random_control():
    model = gap_net(seed=3, classes=10)
    x = np.random.default_rng(1).normal(size=(12, 12, 12, 3)).astype(np.float32)
    maps = _smooth_maps(12, (12, 12), seed=2)
    a = masked_reclassification(model, x, maps, seeds=0)
    b = masked_reclassification(model, x, maps, seeds=range(1, 13))
    for key in ("area", "kept", "drop", "kept_centre", "drop_centre"):
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.allclose(a["drop_random"], b["drop_random"])
    np.testing.assert_array_equal(masked_reclassification(model, x, maps)["drop_random"],
                                  a["drop_random"])


def test_bad_arguments_say_what_is_wrong(region_model):
    x = np.ones((2, 6, 6, 1), np.float32)
    maps = np.ones((2, 6, 6))
    with pytest.raises(ValueError, match=r"do not fit x .* expected \(2, 6, 6\)"):
        masked_reclassification(region_model, x, np.ones((2, 3, 3)))
    for bad in (np.nan, np.inf):
        m = maps.copy()
        m[0, 0, 0] = bad
        with pytest.raises(ValueError, match="NaN or inf"):
            masked_reclassification(region_model, x, m)
    for t in (0, -0.1, 1.5, True):
        with pytest.raises(ValueError, match=r"threshold must be a number in \(0, 1\]"):
            masked_reclassification(region_model, x, maps, threshold=t)
    with pytest.raises(ValueError, match="one per sample"):
        masked_reclassification(region_model, x, maps, seeds=[1, 2, 3])
    with pytest.raises(ValueError, match="one per sample"):
        masked_reclassification(region_model, x, maps, seeds=-1)
    with pytest.raises(ValueError, match="does not broadcast"):
        masked_reclassification(region_model, x, maps, baseline=np.zeros(3))
    with pytest.raises(ValueError, match="batch of signals"):
        masked_reclassification(region_model, x[..., 0, 0], maps[..., 0])
    with pytest.raises(ValueError, match="batch_size"):
        masked_reclassification(region_model, x, maps, batch_size=0)
