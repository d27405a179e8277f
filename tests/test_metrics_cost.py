"""Pass counts of xai.metrics.passes against a layer that counts what it sees."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import xai
from xai import metrics


class Counter(keras.layers.Layer):
    """Identity that adds the batch size to ``forward`` on every call and to ``backward`` on
    every gradient through it (both also inside tf.function graphs)."""

    def build(self, shape):
        self.forward = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                       name="forward")
        self.backward = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                        name="backward")

    def call(self, x):
        self.forward.assign_add(tf.cast(tf.shape(x)[0], "float32"))
        backward = self.backward

        @tf.custom_gradient
        def identity(h):
            def grad(dy):
                with tf.control_dependencies(
                        [backward.assign_add(tf.cast(tf.shape(dy)[0], "float32"))]):
                    return tf.identity(dy)
            return tf.identity(h), grad
        return identity(x)


@pytest.fixture(scope="module")
def counted():
    keras.utils.set_random_seed(0)
    inp = keras.Input((12, 12, 3))
    counter = Counter(name="counter")
    h = counter(inp)
    h = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_a")(h)
    h = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="conv_b")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    out = keras.layers.Dense(4, activation="softmax")(h)
    return keras.Model(inp, out), counter


#: smaller options for the methods whose defaults make many passes; every other registered
#: method is counted with its defaults, so a newly registered method is checked here too
SMALL = {"smoothgrad": {"n": 3, "seed": 0}, "smooth_gradcam++": {"n": 3, "seed": 0},
         "integrated_gradients": {"steps": 5}, "rise": {"n_masks": 7, "seed": 0, "batch_size": 4},
         "opticam": {"iterations": 3}}
#: SISE's count is an upper bound (test below)
CASES = [(name, SMALL.get(name, {})) for name in xai.METHODS if name != "sise"]


@pytest.mark.parametrize("method,options", CASES)
@pytest.mark.parametrize("target", [None, [0, 1, 2]])
def test_counted_passes_match(counted, method, options, target, rng):
    model, counter = counted
    x = rng.random((3, 12, 12, 3)).astype(np.float32)
    counter.forward.assign(0.0)
    counter.backward.assign(0.0)
    xai.explain(model, x, method=method, target=target, progress=False, **options)
    expected = metrics.passes(model, method, target=target, **options)
    assert expected["exact"]
    assert counter.forward.numpy() / 3 == expected["forward"]
    assert counter.backward.numpy() / 3 == expected["backward"]


def test_sise_is_an_upper_bound_and_cost_reports_time(counted, rng):
    model, counter = counted
    x = rng.random((3, 12, 12, 3)).astype(np.float32)
    counter.forward.assign(0.0)
    counter.backward.assign(0.0)
    out = metrics.cost(model, x, "sise", repeats=2)  # a warm-up call, then 2 timed calls
    bound = metrics.passes(model, "sise")
    assert not bound["exact"] and bound["backward"] == 2  # conv_a and conv_b
    assert counter.backward.numpy() / 3 / 3 == bound["backward"]
    assert counter.forward.numpy() / 3 / 3 <= bound["forward"] == 1 + 2 + 6 + 5
    assert out["forward"] == bound["forward"] and out["n"] == 3 and out["seconds_per_sample"] > 0
    # IG's count follows its options (defaults included)
    assert metrics.passes(model, "integrated_gradients") == {"forward": 66, "backward": 64,
                                                              "exact": True}
    with pytest.raises(ValueError, match="Unknown method"):
        metrics.passes(model, "gradcam_plus")
