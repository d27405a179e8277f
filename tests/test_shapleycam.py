"""ShapleyCAM: its Hessian-vector product against finite differences of the gradient, its map
against w = mean(∂S/∂A − ½ H·A) computed from those, and Grad-CAM where the head is linear."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import xai
from xai import layers
from xai import probe as probes
from xai.shapleycam import gradient_and_hvp

from helpers import gap_net


@pytest.fixture(scope="module")
def curved():
    """conv → Flatten → Dense(tanh) → Dense(softmax): S is curved in A even as a logit."""
    keras.utils.set_random_seed(4)
    inp = keras.Input((8, 8, 3))
    feat = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="feat")(inp)
    hidden = keras.layers.Dense(6, activation="tanh", name="hidden")
    head = keras.layers.Dense(5, activation="softmax", name="head")
    out = head(hidden(keras.layers.Flatten()(feat)))
    return keras.Model(inp, out), hidden, head


def _gradient(A, hidden, head, targets, score):
    """∂S/∂A by a plain tape through the model's own head layers, in float64 (no xai code)."""
    A = tf.constant(A, tf.float64)
    W1, b1, W2, b2 = (tf.cast(v, tf.float64) for v in (hidden.kernel, hidden.bias,
                                                      head.kernel, head.bias))
    with tf.GradientTape() as tape:
        tape.watch(A)
        z = tf.tanh(tf.reshape(A, (A.shape[0], -1)) @ W1 + b1) @ W2 + b2
        s = z if score == "logit" else tf.nn.softmax(z)
        s = tf.gather(s, targets, axis=1, batch_dims=1)
    return tape.gradient(s, A).numpy()


@pytest.mark.parametrize("score", ["logit", "probability"])
def test_hvp_and_map_against_finite_differences(curved, rng, score):
    model, hidden, head = curved
    x = rng.random((3, 8, 8, 3)).astype(np.float32)
    targets = np.array([0, 2, 4], np.int32)
    A = keras.Model(model.inputs[0], model.get_layer("feat").output)(x).numpy()
    A = A.astype(np.float64)
    eps = 1e-4
    g = _gradient(A, hidden, head, targets, score)
    hvp_fd = (_gradient(A * (1 + eps), hidden, head, targets, score)
              - _gradient(A * (1 - eps), hidden, head, targets, score)) / (2 * eps)
    probe = probes.build_probe(model, layers.resolve_layer(model, "feat"))
    _, g_xai, hvp = gradient_and_hvp(probe, tf.constant(x), tf.constant(targets), score)
    scale = np.abs(hvp_fd).max()
    assert scale > 1e-3  # the head is curved: the test can tell H·A from 0
    np.testing.assert_allclose(g_xai.numpy(), g, atol=1e-5 * np.abs(g).max() + 1e-7)
    np.testing.assert_allclose(hvp.numpy(), hvp_fd, atol=2e-3 * scale)
    w = (g - 0.5 * hvp_fd).mean((1, 2), keepdims=True)
    expected = np.maximum((w * A).sum(-1), 0)
    got = xai.shapleycam(model, x, layer="feat", target=targets, score=score, normalize=False,
                         upsample=False)
    np.testing.assert_allclose(got, expected, atol=3e-3 * expected.max())


def test_linear_head_logit_is_gradcam_and_probability_is_not(rng):
    model = gap_net(seed=2, classes=5)
    x = rng.random((4, 12, 12, 3)).astype(np.float32)
    np.testing.assert_allclose(xai.shapleycam(model, x), xai.weighted_cam(model, x), atol=1e-6)
    probe = probes.build_probe(model, layers.resolve_layer(model, None))
    _, _, hvp = gradient_and_hvp(probe, tf.constant(x), tf.constant([-1] * 4),
                                            "logit")
    assert np.abs(hvp.numpy()).max() == 0.0
    shap = xai.shapleycam(model, x, score="probability")
    grad = xai.weighted_cam(model, x, score="probability")
    assert np.abs(shap - grad).max() > 1e-2


def test_batched_equals_looped_and_cost(curved, rng):
    model = curved[0]
    x = rng.random((5, 8, 8, 3)).astype(np.float32)
    looped = np.concatenate([xai.shapleycam(model, x[i:i + 1], score="probability")
                             for i in range(len(x))])
    np.testing.assert_allclose(xai.shapleycam(model, x, score="probability", batch_size=2,
                                              progress=False), looped, atol=1e-6)
    assert xai.metrics.passes(model, "shapleycam") == {"forward": 1, "backward": 1,
                                                       "exact": True}
