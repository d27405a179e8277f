"""Integrated Gradients' steps="auto" on nested grids: each level adds only the new nodes, so
it costs and gives what the fixed-steps IG of the level it stops at does."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import xai
from xai.gradients import NESTED

from helpers import conv1d_net

#: levels of steps="auto" per rule (trapezoid: 31·2^j intervals, so the nodes k/31·2^j nest)
DOUBLING = (32, 64, 128, 256, 512, 1024, 2048)
LEVELS = {"riemann_trapezoid": (32, 63, 125, 249, 497, 993, 1985), "riemann_left": DOUBLING,
          "riemann_right": DOUBLING, "riemann_middle": DOUBLING}
#: left and right sums are first order: a looser gap keeps them under the 2048-step cap
TOL = {"riemann_trapezoid": 0.01, "riemann_middle": 0.01, "riemann_left": 0.1,
       "riemann_right": 0.1}


class BackwardCounter(keras.layers.Layer):
    """Identity whose gradient adds the number of rows it carries to ``rows``."""

    def build(self, shape):
        self.rows = self.add_weight(shape=(), initializer="zeros", trainable=False, name="rows")

    def call(self, x):
        rows = self.rows

        @tf.custom_gradient
        def identity(h):
            def grad(dy):
                with tf.control_dependencies([rows.assign_add(tf.cast(tf.shape(dy)[0],
                                                                      "float32"))]):
                    return tf.identity(dy)
            return tf.identity(h), grad
        return identity(x)


def tanh_net(counter=None):
    """Dense tanh units saturate sharply on large inputs: samples scaled by 0.3 … 1000 need
    different numbers of steps."""
    keras.utils.set_random_seed(1)
    inp = keras.Input((5,))
    h = counter(inp) if counter is not None else inp
    h = keras.layers.Dense(8, activation="tanh")(h)
    return keras.Model(inp, keras.layers.Dense(3)(h))


def spread_inputs():
    return (np.random.default_rng(0).normal(size=(4, 5))
            * np.array([[0.3], [10], [100], [1000]])).astype(np.float32)


def assert_equals_fixed_at_its_level(model, x, rule, tol, **options):
    """auto's attribution of each sample = the fixed-steps IG with the steps it used."""
    attr, delta, used = xai.integrated_gradients(model, x, steps="auto", rule=rule, tol=tol,
                                                 return_delta=True, return_steps=True,
                                                 progress=False, **options)
    gain = attr.reshape(len(x), -1).sum(1, dtype=np.float64) - delta
    assert (np.abs(delta) <= tol * np.abs(gain)).all()
    assert set(used) <= set(LEVELS[rule])
    for steps in set(used.tolist()):
        fixed = xai.integrated_gradients(model, x, steps=steps, rule=rule, progress=False,
                                         **options)
        rows = used == steps
        scale = np.abs(fixed[rows]).max()
        np.testing.assert_allclose(attr[rows], fixed[rows], rtol=1e-5, atol=1e-6 * scale)
    return used


@pytest.mark.parametrize("rule", NESTED + ("riemann_middle",))
def test_auto_equals_fixed_steps_at_the_level_each_sample_stops(rule):
    used = assert_equals_fixed_at_its_level(tanh_net(), spread_inputs(), rule, TOL[rule])
    assert len(set(used.tolist())) >= 3  # samples stop at different levels


@pytest.mark.parametrize("rule", NESTED + ("riemann_middle",))
def test_auto_evaluates_as_many_gradients_as_fixed_steps_at_its_level(rule):
    """Nested rules: exactly Σ_i steps_i gradients (m + 1 per sample for the trapezoid with m
    intervals), not the ≈ 2× of recomputing every level; riemann_middle does recompute."""
    counter = BackwardCounter()
    net, x = tanh_net(counter), spread_inputs()
    counter.rows.assign(0.0)
    _, used = xai.integrated_gradients(net, x, steps="auto", rule=rule, tol=TOL[rule],
                                       return_steps=True, batch_size=100_000,
                                       progress=False)  # no padded rows
    counted = counter.rows.numpy()
    levels = np.array(LEVELS[rule])
    recomputed = sum(levels[levels <= u].sum() for u in used)
    assert counted == (used.sum() if rule in NESTED else recomputed)
    assert used.max() > 32 and used.sum() < recomputed  # the two counts differ here


def test_auto_on_1d_signals_equals_fixed_steps():
    net = conv1d_net(seed=3, length=20)
    x = (np.random.default_rng(1).normal(size=(3, 20, 1))
         * np.array([1, 30, 300])[:, None, None]).astype(np.float32)
    used = assert_equals_fixed_at_its_level(net, x, "riemann_trapezoid", 0.005,
                                            baseline=np.zeros((20, 1), np.float32))
    assert used.max() > 32


def test_auto_stops_at_the_cap_with_a_warning():
    net, x = tanh_net(), spread_inputs()
    with pytest.warns(RuntimeWarning, match="max_steps"):
        _, used = xai.integrated_gradients(net, x, steps="auto", tol=1e-9, max_steps=130,
                                           return_steps=True, progress=False)
    assert used.tolist() == [125] * 4
    with pytest.raises(ValueError, match="max_steps"):
        xai.integrated_gradients(net, x, steps="auto", max_steps=1)
