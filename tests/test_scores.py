"""xai.scores: which number is explained — logits recovered under a final softmax/sigmoid, also
when the classifier is nested in a wrapper model (a common pattern: preprocessing + classifier)."""
import keras
import numpy as np
import pytest

import xai
from xai import metrics, scores

from helpers import gap_net


def _wrappers(classifier, shape):
    seq = keras.Sequential([keras.Input(shape), keras.layers.Rescaling(1.0, name="prep"),
                            classifier], name="wrapped_sequential")
    inp = keras.Input(shape)
    fun = keras.Model(inp, classifier(keras.layers.Rescaling(1.0, name="prep")(inp)),
                      name="wrapped_functional")
    return {"sequential": seq, "functional": fun}


@pytest.fixture(scope="module")
def classifier():
    return gap_net(seed=3, classes=5)


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(1).normal(size=(6, 12, 12, 3)).astype(np.float32)


def _hand_logits(classifier, x):
    """GAP features @ W + b of the softmax head, computed without xai."""
    features = keras.Model(classifier.inputs, classifier.get_layer("gap").output)(x).numpy()
    head = classifier.get_layer("head")
    return features @ head.kernel.numpy() + head.bias.numpy()


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_wrapped_classifier_scores_like_the_classifier(classifier, x, kind):
    wrapped = _wrappers(classifier, x.shape[1:])[kind]
    logits = _hand_logits(classifier, x)
    np.testing.assert_allclose(scores.class_scores(wrapped, x, "logit"), logits, rtol=1e-5,
                               atol=1e-5)
    # the probability is the model's own output: softmax applied once, not twice
    np.testing.assert_allclose(scores.class_scores(wrapped, x, "probability"),
                               wrapped.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_wrapped_classifier_explained_like_the_classifier(classifier, x, kind):
    wrapped = _wrappers(classifier, x.shape[1:])[kind]
    for method, options in (("gradcam", {"layer": "conv_b"}),
                            ("saliency", {}),
                            ("rise", {"n_masks": 64, "seed": 0})):
        for score in ("logit", "probability"):
            np.testing.assert_allclose(
                xai.explain(wrapped, x, method=method, score=score, progress=False, **options),
                xai.explain(classifier, x, method=method, score=score, progress=False, **options),
                rtol=1e-4, atol=1e-5, err_msg=f"{method}, {score}")
    cam = xai.explain(classifier, x, method="gradcam", layer="conv_b", progress=False)
    a = metrics.drop_increase(wrapped, x, cam, keep=0.3, return_scores=True)
    b = metrics.drop_increase(classifier, x, cam, keep=0.3, return_scores=True)
    np.testing.assert_allclose(a["y"], b["y"], rtol=1e-5)
    np.testing.assert_allclose(a["y_kept"], b["y_kept"], rtol=1e-5)


def test_users_model_untouched(classifier, x):
    wrapped = _wrappers(classifier, x.shape[1:])["sequential"]
    before = wrapped.predict(x, verbose=0)
    scores.class_scores(wrapped, x, "logit")
    assert classifier.get_layer("head").activation.__name__ == "softmax"
    np.testing.assert_array_equal(wrapped.predict(x, verbose=0), before)


def test_mistyped_score_is_rejected_by_every_entry_point(classifier, x):
    for call in (lambda: xai.saliency(classifier, x, score="logits"),
                 lambda: xai.weighted_cam(classifier, x, score="logits"),
                 lambda: xai.rise(classifier, x, score="probabilities", n_masks=8),
                 lambda: xai.explain(classifier, x, method="gradcam", score="logits")):
        with pytest.raises(ValueError, match="score must be one of"):
            call()


def test_documented_submodules_reachable_after_import_xai():
    """`import xai` then xai.metrics / xai.models / xai.data / xai.viz, in a fresh interpreter."""
    import subprocess
    import sys
    code = ("import xai; print(xai.metrics.drop_increase.__name__, xai.models.load.__name__, "
            "xai.data.mnist1d.__name__, xai.viz.overlay.__name__, xai.combine.direct.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["drop_increase", "load", "mnist1d", "overlay", "direct"]
    with pytest.raises(AttributeError, match="no attribute 'metricz'"):
        xai.metricz
    # the function xai.sise is not hidden by a module of the same name
    assert callable(xai.sise) and xai.sise.__name__ == "sise"
    assert xai.perturbation.block_layers is not None


# ------------------------------------------------------------------ softmax not where expected
def _features_and_head(seed):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((8, 8, 2))
    features = keras.layers.GlobalAveragePooling2D(name="gap")(
        keras.layers.Conv2D(6, 3, activation="relu")(inp))
    return inp, features


@pytest.mark.parametrize("fn", ["tf.nn", "keras.ops", "activation"])
def test_a_final_log_softmax_is_stripped_like_a_softmax(fn):
    """Lambda(log_softmax) used to be explained as if its log-probabilities were logits."""
    import tensorflow as tf
    inp, features = _features_and_head(30)
    if fn == "activation":
        out = keras.layers.Dense(4, activation="log_softmax", name="head")(features)
    else:
        log_softmax = tf.nn.log_softmax if fn == "tf.nn" else keras.ops.log_softmax
        out = keras.layers.Lambda(log_softmax)(keras.layers.Dense(4, name="head")(features))
    model = keras.Model(inp, out)
    x = np.random.default_rng(30).normal(size=(5, 8, 8, 2)).astype(np.float32)
    gap = keras.Model(inp, features)(x).numpy()
    head = model.get_layer("head")
    np.testing.assert_allclose(scores.class_scores(model, x),
                               gap @ head.kernel.numpy() + head.bias.numpy(), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(scores.class_scores(model, x, "probability"),
                               np.exp(model.predict(x, verbose=0)), rtol=1e-5, atol=1e-6)


def _softmax_then(kind, seed=31):
    """A softmax that is not the last layer: 1×1 conv softmax → global pooling (a mean of
    per-position distributions), or Dense softmax → Reshape."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((8, 8, 2))
    h = keras.layers.Conv2D(6, 3, activation="relu", name="conv")(inp)
    if kind == "pooling":
        h = keras.layers.Conv2D(4, 1, activation="softmax", name="pixel_softmax")(h)
        return keras.Model(inp, keras.layers.GlobalAveragePooling2D(name="pool")(h))
    h = keras.layers.Dense(4, activation="softmax", name="head")(keras.layers.Flatten()(h))
    return keras.Model(inp, keras.layers.Reshape((4,), name="reshape")(h))


@pytest.mark.parametrize("kind", ["pooling", "reshape"])
def test_a_softmax_before_the_last_layer_has_no_logits_and_is_not_softmaxed_twice(kind):
    import tensorflow as tf
    model = _softmax_then(kind)
    x = np.random.default_rng(31).normal(size=(3, 8, 8, 2)).astype(np.float32)
    out = model.predict(x, verbose=0)
    np.testing.assert_allclose(out.sum(1), 1, rtol=1e-5)  # the output is a distribution
    np.testing.assert_allclose(scores.class_scores(model, x, "probability"), out, rtol=1e-5,
                               atol=1e-7)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        s = tf.reduce_sum(model(xt)[:, 2])
    np.testing.assert_allclose(xai.saliency(model, x, target=2, score="probability"),
                               tape.gradient(s, xt), rtol=1e-4, atol=1e-7)
    top = xai.smoothgrad(model, x, score="probability", n=2, spread=0.0, seed=0)
    expected = xai.saliency(model, x, target=out.argmax(1), score="probability")
    np.testing.assert_allclose(top, expected, rtol=1e-5, atol=1e-8)
    last = "pool" if kind == "pooling" else "reshape"
    for call in (lambda: scores.class_scores(model, x),
                 lambda: xai.explain(model, x, method="gradcam", layer="conv"),
                 lambda: xai.saliency(model, x)):
        with pytest.raises(ValueError, match=f"not its last layer.*→ '?{last}.*"
                                             "Use score='probability'"):
            call()
