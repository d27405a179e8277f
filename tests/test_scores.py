"""xai.scores: which number is explained — logits recovered under a final softmax/sigmoid, also
when the classifier is nested in a wrapper model (a common pattern: preprocessing + classifier)."""
import keras
import numpy as np
import pytest

import xai
from helpers import gap_net
from xai import metrics, scores


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
