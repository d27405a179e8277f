"""Gradient methods: Integrated Gradients' completeness, quadrature, guided backprop, SmoothGrad."""
import subprocess
import sys
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf
from skimage import data

import xai
from xai.gradients import RULES, quadrature

from helpers import gap_net


@pytest.mark.parametrize("rule", RULES)
def test_quadrature_weights_sum_to_one_and_integrate_polynomials(rule):
    nodes, weights = quadrature(8, rule)
    assert len(nodes) == 8 and np.isclose(weights.sum(), 1) and (0 <= nodes).all() \
        and (nodes <= 1).all()
    exact_degree = {"gauss_legendre": 15, "riemann_trapezoid": 1, "riemann_middle": 1,
                    "riemann_left": 0, "riemann_right": 0}[rule]
    for d in range(exact_degree + 1):
        assert np.isclose((weights * nodes ** d).sum(), 1 / (d + 1)), d


def test_ig_on_a_linear_model_is_exact():
    """For S = w·x + b the integrand is constant: IG = (x − x') ⊙ w for every rule and steps."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)])
    x = np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32)
    base = np.full(6, 0.5, np.float32)
    w = model.layers[0].kernel.numpy()
    for rule in RULES:
        got, delta = xai.integrated_gradients(model, x, target=[0, 1, 2, 0], baseline=base,
                                              steps=3, rule=rule, return_delta=True)
        np.testing.assert_allclose(got, (x - base) * w[:, [0, 1, 2, 0]].T, rtol=1e-5, atol=1e-6)
        assert np.abs(delta).max() < 1e-4


def chelsea_batch():
    img = cv2.resize(data.chelsea(), (224, 224), interpolation=cv2.INTER_AREA)
    return keras.applications.mobilenet.preprocess_input(img.astype(np.float32))[None]


def test_ig_completeness_gap_shrinks_and_auto_reaches_tol_on_mobilenet(mobilenet):
    x = chelsea_batch()
    gaps = []
    for steps in (8, 32, 128):
        attr, delta = xai.integrated_gradients(mobilenet, x, steps=steps, return_delta=True)
        gain = attr.sum() - delta[0]
        gaps.append(abs(delta[0]) / abs(gain))
    assert gaps[0] > gaps[1] > gaps[2]
    attr, delta = xai.integrated_gradients(mobilenet, x, steps="auto", return_delta=True)
    assert abs(delta[0]) <= 0.01 * abs(attr.sum() - delta[0])
    # sign of Σ attributions = sign of S(x) − S(baseline) (the original study saw it inverted)
    z = xai.scores.class_scores(mobilenet, np.concatenate([x, 0 * x]), "logit")
    c = z[0].argmax()
    assert np.sign(attr.sum()) == np.sign(z[0, c] - z[1, c])


def test_ig_auto_on_the_mnist1d_seed_model(mnist1d_seed_model):
    from mnist1d.data import get_dataset_args, make_dataset
    args = get_dataset_args()
    args.num_samples = 60
    xs = make_dataset(args)["x"][:6, :, None].astype(np.float32)
    attr, delta = xai.explain(mnist1d_seed_model, xs, method="integrated_gradients",
                              steps="auto", return_delta=True)
    z = xai.scores.class_scores(mnist1d_seed_model, xs)
    top = z.argmax(1)
    gain = z[np.arange(6), top] - xai.scores.class_scores(mnist1d_seed_model, 0 * xs)[
        np.arange(6), top]
    assert attr.shape == (6, 40, 1)
    np.testing.assert_allclose(attr.reshape(6, -1).sum(1) - gain, delta, rtol=1e-3, atol=1e-3)
    assert (np.abs(delta) <= 0.01 * np.abs(gain)).all()
    assert (np.sign(attr.reshape(6, -1).sum(1)) == np.sign(gain)).all()


def test_ig_auto_warns_when_the_cap_is_reached(mobilenet):
    with pytest.warns(RuntimeWarning, match="max_steps"):
        xai.integrated_gradients(mobilenet, chelsea_batch(), steps="auto", tol=1e-9,
                                 max_steps=64)


def test_ig_memory_chunks_do_not_depend_on_steps():
    """All (sample, step) evaluations go through fixed batch_size chunks: the traced function
    sees one input shape whatever steps is (so memory does not grow with steps)."""
    net = gap_net(seed=2)
    x = np.random.default_rng(0).normal(size=(2, 12, 12, 3)).astype(np.float32)
    a = xai.integrated_gradients(net, x, steps=50, batch_size=16)
    b = xai.integrated_gradients(net, x, steps=50, batch_size=7)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    before = xai.probe.trace_count(net)
    xai.integrated_gradients(net, x, steps=400, batch_size=16)
    assert xai.probe.trace_count(net) == before


def small_relu_net():
    keras.utils.set_random_seed(4)
    inp = keras.Input((3, 3, 2))
    h = keras.layers.Conv2D(4, 1, activation="relu", name="c")(inp)
    out = keras.layers.Dense(3)(keras.layers.Flatten()(h))
    return keras.Model(inp, out)


def test_guided_backprop_matches_hand_derivation_and_leaves_model_alone():
    model = small_relu_net()
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 2)).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    got = xai.explain(model, x, method="guided_backprop", target=1)
    k, b = model.get_layer("c").kernel.numpy()[0, 0], model.get_layer("c").bias.numpy()
    w2 = model.layers[-1].kernel.numpy()[:, 1].reshape(3, 3, 4)
    pre = x @ k + b
    dh = np.broadcast_to(w2, pre.shape)
    dpre = dh * (pre > 0) * (dh > 0)
    np.testing.assert_allclose(got, dpre @ k.T, rtol=1e-5, atol=1e-6)
    for w0, w1 in zip(before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    assert model.get_layer("c").activation.__name__ == "relu"
    # plain saliency keeps the negative gradients that guided backprop drops
    sal = xai.explain(model, x, method="saliency", target=1)
    np.testing.assert_allclose(sal, (dh * (pre > 0)) @ k.T, rtol=1e-5, atol=1e-6)


def test_guided_gradcam_is_guided_backprop_times_gradcam():
    net = gap_net(seed=6)
    x = np.random.default_rng(2).normal(size=(3, 12, 12, 3)).astype(np.float32)
    gb = xai.explain(net, x, method="guided_backprop")
    cam = xai.explain(net, x, method="gradcam")
    np.testing.assert_allclose(xai.explain(net, x, method="guided_gradcam"), gb * cam[..., None],
                               rtol=1e-5, atol=1e-7)


def test_smoothgrad_without_noise_is_saliency_and_with_noise_differs():
    net = gap_net(seed=7)
    x = np.random.default_rng(3).normal(size=(2, 12, 12, 3)).astype(np.float32)
    sal = xai.explain(net, x, method="saliency")
    np.testing.assert_allclose(xai.explain(net, x, method="smoothgrad", spread=0.0, n=3), sal,
                               rtol=1e-5, atol=1e-7)
    sg = xai.explain(net, x, method="smoothgrad", n=5, seed=1)
    np.testing.assert_allclose(xai.explain(net, x, method="smoothgrad", n=5, seed=1,
                                           batch_size=3), sg, rtol=1e-5, atol=1e-7)
    assert np.abs(sg - sal).max() > 1e-3


def test_input_gradient_via_tape_matches_saliency():
    net = gap_net(seed=8, head=None)
    x = tf.constant(np.random.default_rng(4).normal(size=(2, 12, 12, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        s = tf.reduce_sum(net(x)[:, 2])
    np.testing.assert_allclose(xai.explain(net, x.numpy(), method="saliency", target=2),
                               tape.gradient(s, x).numpy(), rtol=1e-5, atol=1e-7)


def test_dense_layers_fast_gradient_matches_tf_and_shares_weights():
    """Dense layers run through xai's own matmul gradient, (W gᵀ)ᵀ: it must equal TF's gradient
    of the untouched model (hidden Dense + softmax head, logit = pre-softmax), and use the
    model's variables, not copies."""
    keras.utils.set_random_seed(9)
    net = keras.Sequential([keras.Input((6, 6, 2)),
                            keras.layers.Conv2D(3, 3, activation="relu", name="conv"),
                            keras.layers.Flatten(),
                            keras.layers.Dense(7, activation="tanh", name="hidden"),
                            keras.layers.Dense(4, activation="softmax", name="head")])
    x = tf.constant(np.random.default_rng(5).normal(size=(3, 6, 6, 2)).astype(np.float32))
    target = [0, 3, 1]
    head = net.get_layer("head")
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = x
        for layer in net.layers[:-1]:
            h = layer(h)
        logits = tf.matmul(h, head.kernel) + head.bias
        s = tf.reduce_sum(tf.gather(logits, target, axis=1, batch_dims=1))
    expected = tape.gradient(s, x).numpy()
    got = xai.explain(net, x.numpy(), method="saliency", target=target)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    # shared variables: changing the model's weights changes the explanation
    hidden = net.get_layer("hidden")
    hidden.kernel.assign(-hidden.kernel)
    assert not np.allclose(xai.explain(net, x.numpy(), method="saliency", target=target), got)


def test_ig_auto_reports_the_steps_each_sample_needed():
    """steps="auto" gives each sample the first of 32, 63, 125, … steps (the trapezoid's nested
    levels, 31·2^j intervals) whose fixed-step IG closes the completeness gap to tol: tanh
    units saturate sharply on large inputs, so the four samples (scaled by 0.3 … 1000) need
    different counts."""
    keras.utils.set_random_seed(1)
    net = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="tanh"),
                            keras.layers.Dense(3)])
    x = (np.random.default_rng(0).normal(size=(4, 5))
         * np.array([[0.3], [10], [100], [1000]])).astype(np.float32)
    attr, delta, used = xai.integrated_gradients(net, x, steps="auto", tol=0.01,
                                                 return_delta=True, return_steps=True)
    want = np.zeros(4, int)
    for k in (497, 249, 125, 63, 32):  # the smallest count that is good enough
        a, d = xai.integrated_gradients(net, x, steps=k, return_delta=True)
        ok = np.abs(d) <= 0.01 * np.abs(a.sum(1) - d)
        want[ok] = k
    np.testing.assert_array_equal(used, want)
    assert len(set(want)) >= 3 and (np.abs(delta) <= 0.01 * np.abs(attr.sum(1) - delta)).all()
    fixed, steps = xai.integrated_gradients(net, x, steps=48, return_steps=True)
    assert fixed.shape == x.shape and steps.tolist() == [48] * 4


_STRIDED_1X1 = """
import sys
import keras
import numpy as np
import tensorflow as tf
import xai

keras.utils.set_random_seed(0)
L = keras.layers
inp = keras.Input((16, 16, 3))
h = L.Conv2D(8, 3, padding="same", activation="relu", name="c1")(inp)
h = L.Conv2D(8, 1, strides=2, name="shortcut")(h)  # as mini-Xception's residual shortcuts
h = L.Conv2D(6, 3, padding="same", activation="relu", name="c2")(h)
model = keras.Model(inp, L.Dense(4, activation="softmax")(L.GlobalAveragePooling2D()(h)))
x = np.random.default_rng(0).random((5, 16, 16, 3), np.float32)


features = keras.Model(model.input, model.layers[-1].input)


@tf.function  # reference input gradient of the logit of class 1, in a graph
def reference(x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        logit = tf.matmul(features(x), model.layers[-1].kernel)[:, 1]
    return tape.gradient(logit, x)


out = {"reference": reference(tf.constant(x)).numpy()}
for rows in (1, 5):  # up to 4 rows, a first call used to run eagerly; 5 rows were compiled
    out[f"saliency{rows}"] = xai.explain(model, x[:rows], method="saliency", target=1)
    out[f"gradcam{rows}"] = xai.explain(model, x[:rows], method="gradcam", layer="c1")
    out[f"ig{rows}"] = xai.explain(model, x[:rows], method="integrated_gradients", steps=2)
    out[f"sise{rows}"] = xai.explain(model, x[:rows], method="sise")
np.savez(sys.argv[1], **out)
"""


def test_strided_1x1_convolution_does_not_kill_the_process(tmp_path):
    """TensorFlow's eager Conv2D gradient also computes the kernel's gradient, and its oneDNN
    kernel crashes the process for 1×1 stride-2 convolutions (the fer package's mini-Xception
    died on Grad-CAM of one image). xai takes every gradient in a graph, which keeps only the
    gradients asked for. Run in a subprocess, so a crash fails the test, not pytest."""
    result = tmp_path / "out.npz"
    done = subprocess.run([sys.executable, "-c", _STRIDED_1X1, str(result)], capture_output=True,
                          text=True, timeout=600, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, f"exit code {done.returncode}: {done.stderr[-2000:]}"
    out = np.load(result)
    np.testing.assert_allclose(out["saliency5"], out["reference"], rtol=1e-4, atol=1e-6)
    for name in ("saliency", "gradcam", "ig", "sise"):  # the one-image path gives row 0
        np.testing.assert_allclose(out[f"{name}1"], out[f"{name}5"][:1], rtol=1e-4, atol=1e-6)
