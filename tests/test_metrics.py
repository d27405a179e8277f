"""xai.metrics against hand-computed values on fixed linear-softmax models.

The models are ``softmax(W . flatten(x))`` with hand-set W, so every masked score has a closed
form: with class 0 weights 1 and class 1 weights 0, the logits are (sum(x), 0) and the class-0
probability is sigmoid(sum(x)).
"""
import math

import keras
import numpy as np
import pandas as pd
import pytest

from xai import metrics


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def linear_softmax(input_shape, weights):
    """softmax(flatten(x) @ weights), no bias; weights (prod(input_shape), classes)."""
    model = keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(weights.shape[1], activation="softmax", use_bias=False),
    ])
    model.layers[-1].set_weights([np.asarray(weights, np.float32)])
    return model


@pytest.fixture(scope="module")
def sum_model():
    """Signals (4, 1): logits (sum x, 0)."""
    w = np.zeros((4, 2), np.float32)
    w[:, 0] = 1.0
    return linear_softmax((4, 1), w)


@pytest.fixture(scope="module")
def image_model():
    """Images (2, 2, 3): logits (sum over pixels and channels, 0)."""
    w = np.zeros((12, 2), np.float32)
    w[:, 0] = 1.0
    return linear_softmax((2, 2, 3), w)


# three signals and maps; see test_drop_increase_hand_computed for the arithmetic
X = np.array([[0.5, -1.0, 2.0, 0.25],
              [1.0, 1.0, -0.5, 0.5],
              [-1.0, -1.0, 0.5, 0.0]], np.float32)[..., None]
M = np.array([[4.0, 1.0, 3.0, 2.0],
              [0.1, 0.9, 0.8, 0.2],
              [1.0, 0.0, 2.0, 3.0]])


def test_drop_increase_hand_computed(sum_model):
    # keep 50% = 2 of 4 points, the rest 0.
    # A: sum 1.75 -> class 0 (p = sig(1.75)); keeps x0, x2 -> sum 2.5: p rises -> increase.
    # B: sum 2 -> class 0; keeps x1, x2 -> sum 0.5: drop (sig(2) - sig(.5)) / sig(2).
    # C: sum -1.5 -> class 1 (p = sig(1.5)); keeps x3, x2 -> sum 0.5 -> p1 = sig(-0.5).
    drop_b = (sig(2) - sig(0.5)) / sig(2)
    drop_c = (sig(1.5) - sig(-0.5)) / sig(1.5)
    out = metrics.drop_increase(sum_model, X, M, keep=0.5, return_scores=True)
    assert out["drop"] == pytest.approx((0 + drop_b + drop_c) / 3, rel=1e-5)
    assert out["increase"] == pytest.approx(1 / 3)
    np.testing.assert_array_equal(out["target"], [0, 0, 1])
    np.testing.assert_allclose(out["y"], [sig(1.75), sig(2), sig(1.5)], rtol=1e-5)
    np.testing.assert_allclose(out["y_kept"], [sig(2.5), sig(0.5), sig(-0.5)], rtol=1e-5)


def test_drop_increase_target_keep_and_baseline(sum_model):
    # fixed target 0 for all, keep 25% = 1 point, removed points set to 1.0
    # A keeps x0=0.5, others 1 -> 3.5; B keeps x1=1 -> 4; C keeps x3=0 -> 3
    out = metrics.drop_increase(sum_model, X, M, keep=0.25, target=0, baseline=1.0,
                                return_scores=True)
    np.testing.assert_allclose(out["y"], [sig(1.75), sig(2), sig(-1.5)], rtol=1e-5)
    np.testing.assert_allclose(out["y_kept"], [sig(3.5), sig(4), sig(3)], rtol=1e-5)
    assert out["increase"] == 1.0 and out["drop"] == 0.0
    # per-sample targets
    out = metrics.drop_increase(sum_model, X, M, keep=0.5, target=[1, 0, 0], return_scores=True)
    np.testing.assert_allclose(out["y"], [sig(-1.75), sig(2), sig(-1.5)], rtol=1e-5)
    np.testing.assert_allclose(out["y_kept"], [sig(-2.5), sig(0.5), sig(0.5)], rtol=1e-5)
    expected = ((sig(-1.75) - sig(-2.5)) / sig(-1.75) + (sig(2) - sig(0.5)) / sig(2)) / 3
    assert out["drop"] == pytest.approx(expected, rel=1e-5)
    assert out["increase"] == pytest.approx(1 / 3)
    # keeping everything changes nothing
    assert metrics.drop_increase(sum_model, X, M, keep=1.0)["drop"] == pytest.approx(0, abs=1e-6)


def test_drop_increase_multiply_hand_computed(sum_model):
    # mode="multiply" (Grad-CAM++ paper, sec. 6): O = S(x ⊙ m / max m), baseline 0.
    # A: m/max = (1, .25, .75, .5) -> sum .5 - .25 + 1.5 + .125 = 1.875 > 1.75: increase.
    # B: m/max = (1/9, 1, 8/9, 2/9) -> 1/9 + 1 - 4/9 + 1/9 = 7/9: drop.
    # C (class 1, p1 = sig(-s)): m/max = (1/3, 0, 2/3, 1) -> -1/3 + 1/3 + 0 = 0 -> p1 = sig(0).
    out = metrics.drop_increase(sum_model, X, M, mode="multiply", return_scores=True)
    np.testing.assert_allclose(out["y_kept"], [sig(1.875), sig(7 / 9), sig(0)], rtol=1e-5)
    drop_b = (sig(2) - sig(7 / 9)) / sig(2)
    drop_c = (sig(1.5) - sig(0)) / sig(1.5)
    assert out["drop"] == pytest.approx((drop_b + drop_c) / 3, rel=1e-5)
    assert out["increase"] == pytest.approx(1 / 3)
    # with a baseline b, O = S(b + m̂ ⊙ (x - b)), checked point by point
    b = 1.0
    mh = M / M.max(1, keepdims=True)
    expected = (b + mh * (X[..., 0] - b)).sum(1)
    out = metrics.drop_increase(sum_model, X, M, mode="multiply", target=0, baseline=b,
                                return_scores=True)
    np.testing.assert_allclose(out["y_kept"], [sig(v) for v in expected], rtol=1e-5)
    # negative map values count as 0; a map scaled by any positive factor gives the same result
    signed = M - 1.5
    a = metrics.drop_increase(sum_model, X, signed, mode="multiply", return_scores=True)
    c = metrics.drop_increase(sum_model, X, 7 * np.clip(signed, 0, None), mode="multiply",
                              return_scores=True)
    np.testing.assert_allclose(a["y_kept"], c["y_kept"], rtol=1e-6)
    # an all-ones map changes nothing; an all-zero map shows only the baseline
    assert metrics.drop_increase(sum_model, X, np.ones((3, 4)), mode="multiply")["drop"] \
        == pytest.approx(0, abs=1e-6)
    zero = metrics.drop_increase(sum_model, X, np.zeros((3, 4)), mode="multiply",
                                 return_scores=True)
    np.testing.assert_allclose(zero["y_kept"], [0.5, 0.5, 0.5], rtol=1e-6)
    with pytest.raises(ValueError, match="keep= applies to mode='mask'"):
        metrics.drop_increase(sum_model, X, M, keep=0.3, mode="multiply")
    with pytest.raises(ValueError, match="mode must be"):
        metrics.drop_increase(sum_model, X, M, mode="product")


@pytest.mark.parametrize("options", [{"keep": 0.5}, {"mode": "multiply"},
                                     {"keep": 0.25, "target": 0, "baseline": 1.0}])
def test_drop_increase_per_sample_terms_average_to_the_means(sum_model, options):
    means = metrics.drop_increase(sum_model, X, M, return_scores=True, **options)
    terms = metrics.drop_increase(sum_model, X, M, per_sample=True, **options)
    assert set(terms) == {"drop", "increase", "gain"}
    for name, v in terms.items():
        assert v.shape == (3,) and v.dtype == np.float64
        assert float(np.mean(v)) == means[name]
    y, o = means["y"], means["y_kept"]
    np.testing.assert_array_equal(terms["drop"], np.maximum(0, y - o) / y)
    np.testing.assert_array_equal(terms["increase"], o > y)
    np.testing.assert_array_equal(terms["gain"], np.maximum(0, o - y) / (1 - y))
    logit = metrics.drop_increase(sum_model, X[:2], M[:2], score="logit", per_sample=True)
    assert set(logit) == {"drop", "increase"}


def test_deletion_insertion_hand_computed_logit(image_model):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 2, 2, 3)).astype(np.float32)
    m = np.array([[[3.0, 0.0], [1.0, 2.0]]])  # order: (0,0), (1,1), (1,0), (0,1)
    s = x[0].sum(-1)  # per-pixel contribution to logit 0
    total = s.sum()
    target = 0
    dele = [total, total - s[0, 0], total - s[0, 0] - s[1, 1], s[0, 1], 0.0]
    ins = [0.0, s[0, 0], s[0, 0] + s[1, 1], s[0, 0] + s[1, 1] + s[1, 0], total]

    def trap(c):  # trapezoid rule on 5 equally spaced points in [0, 1]
        return 0.25 * (c[0] / 2 + c[1] + c[2] + c[3] + c[4] / 2)

    auc, curves, fr = metrics.deletion_auc(image_model, x, m, steps=4, target=target,
                                           score="logit", return_curves=True)
    np.testing.assert_allclose(fr, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(curves[0], dele, atol=1e-5)
    assert auc.shape == (1,) and auc[0] == pytest.approx(trap(dele), abs=1e-5)
    auc, curves, _ = metrics.insertion_auc(image_model, x, m, steps=4, target=target,
                                           score="logit", return_curves=True)
    np.testing.assert_allclose(curves[0], ins, atol=1e-5)
    assert auc[0] == pytest.approx(trap(ins), abs=1e-5)
    # two steps: half the pixels (the top two) at the midpoint
    _, curves, _ = metrics.deletion_auc(image_model, x, m, steps=2, target=0, score="logit",
                                        return_curves=True)
    np.testing.assert_allclose(curves[0], [total, s[0, 1] + s[1, 0], 0.0], atol=1e-5)


def test_full_shape_maps_are_averaged_over_channels(image_model):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 2, 2, 3)).astype(np.float32)
    # channel means rank pixels (0,1) > (1,0) > (0,0) > (1,1); channel maxima would not
    full = np.array([[[0.0, 0.0, 0.9], [0.5, 0.5, 0.5]],
                     [[0.6, 0.0, 0.0], [-1.0, 0.0, 0.0]]])
    full = np.stack([full, full])
    mean = full.mean(-1)
    a = metrics.deletion_auc(image_model, x, full, steps=4, score="logit")
    b = metrics.deletion_auc(image_model, x, mean, steps=4, score="logit")
    np.testing.assert_allclose(a, b)
    s = x.sum(-1)
    first_removed = s.sum(axis=(1, 2)) - s[:, 0, 1]  # (0,1) goes first
    _, curves, _ = metrics.deletion_auc(image_model, x, full, steps=4, target=0, score="logit",
                                        return_curves=True)
    np.testing.assert_allclose(curves[:, 1], first_removed, atol=1e-5)


def test_probability_curves_closed_form(sum_model):
    # deletion on signal A with baseline 0, one point per step, order x0, x2, x3, x1
    x = X[:1]
    _, curves, _ = metrics.deletion_auc(sum_model, x, M[:1], steps=4, return_curves=True)
    sums = [1.75, 1.25, -0.75, -1.0, 0.0]
    np.testing.assert_allclose(curves[0], [sig(v) for v in sums], rtol=1e-5)


@pytest.mark.parametrize("baseline", [0.25, "array"])
def test_curves_equal_masks_built_by_hand(baseline):
    """Every curve point is the score of np.where(rank < count, shown, hidden), scored here in
    NumPy: random weights, tied map values, channels, batches splitting a sample's copies."""
    rng = np.random.default_rng(5)
    w = rng.normal(size=(5 * 4 * 3, 3)).astype(np.float32)
    model = linear_softmax((5, 4, 3), w)
    x = rng.normal(size=(3, 5, 4, 3)).astype(np.float32)
    maps = rng.integers(0, 4, (3, 5, 4)).astype(float)  # ties: row-major order breaks them
    base = rng.normal(size=x.shape).astype(np.float32) if baseline == "array" else baseline
    steps, npts = 6, 20
    order = np.argsort(-maps.reshape(3, -1), axis=1, kind="stable")
    counts = np.floor(np.linspace(0, 1, steps + 1) * npts + 0.5).astype(int)
    for fn, keep in ((metrics.deletion_auc, False), (metrics.insertion_auc, True)):
        _, curves, _ = fn(model, x, maps, steps=steps, target=[0, 2, 1], baseline=base,
                          batch_size=4, return_curves=True)
        for i, t in enumerate([0, 2, 1]):
            for k, c in enumerate(counts):
                top = np.zeros(npts, bool)
                top[order[i, :c]] = True
                top = top.reshape(5, 4, 1)
                b = np.broadcast_to(base, x.shape)[i]
                masked = np.where(top, x[i], b) if keep else np.where(top, b, x[i])
                z = masked.reshape(-1).astype(np.float64) @ w
                p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
                assert curves[i, k] == pytest.approx(p[t], rel=1e-5, abs=1e-7), (fn, i, k)


def test_batched_equals_looped(sum_model):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(7, 4, 1)).astype(np.float32)
    m = rng.random((7, 4))
    for fn in (metrics.deletion_auc, metrics.insertion_auc):
        big = fn(sum_model, x, m, steps=4, batch_size=64)
        small = fn(sum_model, x, m, steps=4, batch_size=3)
        looped = np.concatenate([fn(sum_model, x[i:i + 1], m[i:i + 1], steps=4) for i in range(7)])
        np.testing.assert_allclose(big, small, rtol=1e-6)
        np.testing.assert_allclose(big, looped, rtol=1e-6)
    d1 = metrics.drop_increase(sum_model, x, m, batch_size=2, return_scores=True)
    d2 = metrics.drop_increase(sum_model, x, m, batch_size=64, return_scores=True)
    np.testing.assert_allclose(d1["y_kept"], d2["y_kept"], rtol=1e-6)


def test_informative_window_beats_random_map():
    """Class decided by the sum over a known window; a map on that window must win."""
    t, lo, hi = 40, 10, 20
    w = np.zeros((t, 2), np.float32)
    w[lo:hi, 0], w[lo:hi, 1] = 0.2, -0.2
    model = linear_softmax((t, 1), w)
    rng = np.random.default_rng(0)
    n = 32
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 1, (n, t, 1)).astype(np.float32)
    x[:, lo:hi, 0] += np.where(y == 0, 1.0, -1.0)[:, None]
    informative = np.zeros((n, t))
    informative[:, lo:hi] = 1.0 + rng.random((n, hi - lo))
    random_map = rng.random((n, t))

    d_inf, c_inf, fr = metrics.deletion_auc(model, x, informative, steps=40, return_curves=True)
    d_rand = metrics.deletion_auc(model, x, random_map, steps=40)
    # once the window (first 25% of the ranking) is gone both classes are equally likely
    np.testing.assert_allclose(c_inf[:, fr >= 0.25], 0.5, atol=1e-6)
    assert d_inf.mean() < d_rand.mean() - 0.1
    assert np.mean(d_inf < d_rand) > 0.8
    i_inf = metrics.insertion_auc(model, x, informative, steps=40)
    i_rand = metrics.insertion_auc(model, x, random_map, steps=40)
    assert i_inf.mean() > i_rand.mean() + 0.1
    assert np.mean(i_inf > i_rand) > 0.8
    di_inf = metrics.drop_increase(model, x, informative, keep=0.3)
    di_rand = metrics.drop_increase(model, x, random_map, keep=0.3)
    assert di_inf["drop"] == pytest.approx(0.0, abs=1e-6)  # the kept 30% contains the window
    assert di_rand["drop"] > 0.2


def test_blur_baseline_on_constant_input(sum_model):
    # blurring a constant signal leaves it unchanged, so insertion's curve is flat at Y
    x = np.full((1, 4, 1), 0.3, np.float32)
    auc, curves, _ = metrics.insertion_auc(sum_model, x, M[:1], steps=4, baseline="blur",
                                           return_curves=True)
    np.testing.assert_allclose(curves[0], sig(1.2), rtol=1e-5)
    assert auc[0] == pytest.approx(sig(1.2), rel=1e-5)


def test_nan_maps_are_refused_and_constant_maps_give_finite_numbers(sum_model):
    m = M.copy()
    m[0, 1] = np.nan
    m[2, 0] = np.inf
    for fn in (metrics.deletion_auc, metrics.insertion_auc, metrics.drop_increase):
        with pytest.raises(ValueError, match="maps contain 2 NaN/inf values"):
            fn(sum_model, X, m)
    zero = metrics.drop_increase(sum_model, X, np.zeros((3, 4)))
    assert np.isfinite(zero["drop"]) and np.isfinite(zero["increase"])


def test_errors(sum_model):
    with pytest.raises(ValueError, match=r"\(3, 5\).*\(3, 4, 1\)"):
        metrics.drop_increase(sum_model, X, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"\(2, 4\).*\(3, 4, 1\)"):
        metrics.deletion_auc(sum_model, X, np.zeros((2, 4)))
    for keep in (0, 0.0, -0.1, 1.5, True):
        with pytest.raises(ValueError, match="keep"):
            metrics.drop_increase(sum_model, X, M, keep=keep)
    with pytest.raises(ValueError, match="score='probability'"):
        metrics.drop_increase(sum_model, X, M, score="logit")  # sample C's logit 0 is <= 0
    with pytest.raises(ValueError, match="baseline"):
        metrics.insertion_auc(sum_model, X, M, baseline="noise")
    with pytest.raises(ValueError, match="steps"):
        metrics.deletion_auc(sum_model, X, M, steps=0)
    with pytest.raises(ValueError):
        metrics.deletion_auc(sum_model, X, M, target=5)
    with pytest.raises(ValueError, match="score"):
        metrics.deletion_auc(sum_model, X, M, score="softmax")


def test_faithfulness_table_is_every_metric_of_every_map(sum_model, tmp_path):
    maps = {"m": M, "reversed": -M}
    result = metrics.faithfulness(sum_model, X, maps, keeps=(0.25, 0.5), auc_steps=2)
    for name, m in maps.items():
        for k in (0.25, 0.5):
            row = result.drop_increase.query("method == @name and keep == @k").iloc[0]
            r = metrics.drop_increase(sum_model, X, m, keep=k)
            assert (row["drop"], row["increase"], row["n"]) == (r["drop"], r["increase"], 3)
        a = result.auc.set_index("method").loc[name]
        assert a["deletion_auc"] == metrics.deletion_auc(sum_model, X, m, 2).mean()
        assert a["insertion_auc"] == metrics.insertion_auc(sum_model, X, m, 2).mean()
        multiply = metrics.drop_increase(sum_model, X, m, mode="multiply")
        assert result.multiply.set_index("method").loc[name, "drop"] == multiply["drop"]
    both = metrics.combine_faithfulness({"a": result, "b": result})
    wide = both.wide()
    assert list(wide.columns) == ["model", "method", "drop @ keep 25%", "drop @ keep 50%",
                                  "increase @ keep 25%", "increase @ keep 50%",
                                  "gain @ keep 25%", "gain @ keep 50%", "drop × map",
                                  "increase × map", "gain × map"]
    assert wide[["model", "method"]].values.tolist() == [["a", "m"], ["a", "reversed"],
                                                         ["b", "m"], ["b", "reversed"]]
    both.save(tmp_path, "Test", "signals", 0.0)
    assert "(3 signals" in (tmp_path / "drop_increase.md").read_text()
    assert "(3 signals, 2 steps" in (tmp_path / "deletion_insertion.md").read_text()
    assert len(pd.read_csv(tmp_path / "deletion_insertion.csv")) == 4


def test_faithfulness_keeps_every_per_sample_score_and_pairs_it_with_the_baselines(
        sum_model, tmp_path):
    """The long table holds each metric's own per-sample values; the summary's difference
    with a baseline is the mean of the per-sample differences, and save() writes it."""
    rng = np.random.default_rng(0)
    maps = {"m": M, "random": rng.random(M.shape), "constant": np.ones(M.shape)}
    result = metrics.faithfulness(sum_model, X, maps, keeps=(0.5,), auc_steps=2)
    s = result.samples.set_index(["method", "metric", "sample"])["value"].sort_index()
    for name, m in maps.items():
        terms = metrics.drop_increase(sum_model, X, m, keep=0.5, per_sample=True)
        mult = metrics.drop_increase(sum_model, X, m, mode="multiply", per_sample=True)
        np.testing.assert_array_equal(s.loc[name, "drop @ keep 50%"], terms["drop"])
        np.testing.assert_array_equal(s.loc[name, "gain × map"], mult["gain"])
        np.testing.assert_array_equal(s.loc[name, "insertion_auc"],
                                      metrics.insertion_auc(sum_model, X, m, 2))
    assert result.higher_is_better["drop × map"] is False
    assert result.higher_is_better["increase @ keep 50%"] is True
    summary = result.summary(n_boot=200).set_index(["method", "metric"])
    d = s.loc["m", "deletion_auc"] - s.loc["random", "deletion_auc"]
    assert summary.loc[("m", "deletion_auc"), "d_random"] == pytest.approx(d.mean())
    assert summary.loc[("m", "deletion_auc"), "n_random"] == len(X)
    both = metrics.combine_faithfulness({"a": result, "b": result})
    assert list(both.summary(n_boot=200)["model"].unique()) == ["a", "b"]
    both.save(tmp_path, "Test", "signals", 0.0)
    paired = pd.read_csv(tmp_path / "paired.csv")
    assert len(paired) == 2 * len(maps) * result.samples["metric"].nunique()
    assert "paired with the random and constant maps (3 signals)" in \
        (tmp_path / "paired.md").read_text()


def test_bootstrap_interval_against_the_normal_approximation():
    """For a mean of 0/1 scores the percentile interval is close to p ± 1.96 √(p(1 − p)/N)."""
    v = (np.random.default_rng(3).random(400) < 0.3).astype(float)
    p, half = v.mean(), 1.96 * math.sqrt(v.mean() * (1 - v.mean()) / len(v))
    lo, hi = metrics.bootstrap_interval(v, 0.95, n_boot=4000, seed=1)
    assert abs(lo - (p - half)) < 0.01 and abs(hi - (p + half)) < 0.01
    assert metrics.bootstrap_interval(v, 0.95, 4000, seed=1) == (lo, hi)  # seeded
    assert metrics.bootstrap_interval(np.full(7, 0.25)) == (0.25, 0.25)  # no spread, no width
    for bad in ({"ci": 95}, {"ci": 1.0}, {"n_boot": 0}):
        with pytest.raises(ValueError, match="ci must be|n_boot must be"):
            metrics.bootstrap_interval(v, **{"ci": 0.95, **bad})


def test_faithfulness_intervals_are_bootstraps_of_the_per_sample_scores(sum_model, tmp_path):
    maps = {"m": M, "reversed": -M}
    result = metrics.faithfulness(sum_model, X, maps, keeps=(0.5,), auc_steps=2, ci=0.9,
                                  n_boot=200, seed=4)
    for name, m in maps.items():
        a = result.auc.set_index("method").loc[name]
        per_sample = metrics.deletion_auc(sum_model, X, m, 2)
        assert (a["deletion_auc_lo"], a["deletion_auc_hi"]) == \
            metrics.bootstrap_interval(per_sample, 0.9, 200, 4)
        r = metrics.drop_increase(sum_model, X, m, keep=0.5, return_scores=True)
        drops = np.maximum(0, r["y"] - r["y_kept"]) / r["y"]
        row = result.drop_increase.set_index("method").loc[name]
        assert (row["drop_lo"], row["drop_hi"]) == metrics.bootstrap_interval(drops, 0.9, 200, 4)
        assert row["drop_lo"] <= row["drop"] <= row["drop_hi"]
    assert result.keys() == ["method"] and list(result.wide().columns)[0] == "method"
    result.save(tmp_path, "Test", "signals", 0.0)
    table = (tmp_path / "drop_increase.md").read_text()
    assert "90% bootstrap intervals over the 3 signals" in table
    assert "deletion_auc_lo" in (tmp_path / "deletion_insertion.md").read_text()
