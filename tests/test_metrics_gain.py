"""Average Gain (Zhang et al. 2023, Opti-CAM) against hand computations on the linear-softmax
models of test_metrics.py."""
import math

import numpy as np
import pytest
from test_metrics import M, X, linear_softmax, sig

from xai import metrics


@pytest.fixture(scope="module")
def sum_model():
    w = np.zeros((4, 2), np.float32)
    w[:, 0] = 1.0
    return linear_softmax((4, 1), w)


def test_gain_hand_computed(sum_model):
    # keep 50%: only A rises, sig(1.75) -> sig(2.5); B and C drop (their gain terms are 0)
    out = metrics.drop_increase(sum_model, X, M, keep=0.5)
    expected = (sig(2.5) - sig(1.75)) / (1 - sig(1.75)) / 3
    assert out["gain"] == pytest.approx(expected, rel=1e-5)
    # fixed target 0, keep 25%, removed points = 1: every score rises (see test_metrics)
    out = metrics.drop_increase(sum_model, X, M, keep=0.25, target=0, baseline=1.0)
    ys, yk = [sig(1.75), sig(2), sig(-1.5)], [sig(3.5), sig(4), sig(3)]
    assert out["gain"] == pytest.approx(np.mean([(o - y) / (1 - y) for y, o in zip(ys, yk)]),
                                        rel=1e-5)


def test_gain_multiply_and_logit(sum_model):
    # mode multiply, map scaled to [0, 1]: A's map / 4 weights x -> sum .5*1 -1*.25 +2*.75
    # +.25*.5 = 1.875 > 1.75: a gain; B's sum falls, C's class-1 score falls
    out = metrics.drop_increase(sum_model, X, M, mode="multiply")
    a = 0.5 * 1 + -1.0 * 0.25 + 2.0 * 0.75 + 0.25 * 0.5
    assert out["gain"] == pytest.approx((sig(a) - sig(1.75)) / (1 - sig(1.75)) / 3, rel=1e-5)
    # logits have no "1": no gain key
    assert "gain" not in metrics.drop_increase(sum_model, X[:2], M[:2], score="logit")


def test_gain_rewards_a_good_map_not_a_broad_one():
    """Class set by a window: keeping only the window (noise elsewhere removed) raises the
    probability; a random map keeps noise and loses the window, so it gains less."""
    t, lo, hi = 40, 10, 20
    w = np.zeros((t, 2), np.float32)
    w[lo:hi, 0], w[lo:hi, 1] = 0.2, -0.2
    w[:, 0] += np.where((np.arange(t) < lo) | (np.arange(t) >= hi), -0.3, 0.0)
    model = linear_softmax((t, 1), w)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (32, t, 1)).astype(np.float32)
    x[:, lo:hi, 0] += 1.0
    good = np.zeros((32, t))
    good[:, lo:hi] = 1.0
    g_good = metrics.drop_increase(model, x, good, keep=0.25, target=0)["gain"]
    g_rand = metrics.drop_increase(model, x, rng.random((32, t)), keep=0.25, target=0)["gain"]
    assert g_good > g_rand + 0.2
    assert math.isfinite(g_good)
