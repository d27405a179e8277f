"""Bad input gets one clear error that names the fix — through xai.explain, the exported functions
and the metrics alike (regressions from the front-door review)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import xai
from xai import metrics

from helpers import gap_net


@pytest.fixture(scope="module")
def model():
    return gap_net(seed=5)


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(2).normal(size=(2, 12, 12, 3)).astype(np.float32)


@pytest.mark.parametrize("layer", [0, "input_name", "input_object"])
def test_input_layer_is_not_a_feature_map(model, x, layer):
    layer = {"input_name": model.layers[0].name, "input_object": model.layers[0]}.get(layer, layer)
    with pytest.raises(ValueError, match="is the model's input, not a feature map.*'conv_a', "
                                         "'conv_b'"):
        xai.explain(model, x, method="gradcam", layer=layer)


CASES = {
    "rise n_masks=0": (lambda m, x: xai.rise(m, x, n_masks=0), ValueError, "n_masks must be"),
    "rise n_masks=-5": (lambda m, x: xai.rise(m, x, n_masks=-5), ValueError, "n_masks must be"),
    "rise centre='mean'": (lambda m, x: xai.rise(m, x, n_masks=4, centre="mean"), ValueError,
                           "centre must be True"),
    "smoothgrad batch_size=0": (lambda m, x: xai.smoothgrad(m, x, batch_size=0), ValueError,
                                "batch_size must be a positive integer"),
    "smooth_gradcampp batch_size=0": (lambda m, x: xai.smooth_gradcampp(m, x, batch_size=0),
                                      ValueError, "batch_size must be a positive integer"),
    "guided_gradcam batch_size=0": (lambda m, x: xai.guided_gradcam(m, x, batch_size=0),
                                    ValueError, "batch_size must be a positive integer"),
    "target=1.0": (lambda m, x: xai.explain(m, x, target=1.0), TypeError,
                   "int class indices or class names, got 1.0"),
    "metric NaN in x": (lambda m, x: metrics.drop_increase(m, np.where(x > 1, np.nan, x),
                                                           np.ones((2, 12, 12))),
                        ValueError, "NaN"),
    "metric single sample": (lambda m, x: metrics.deletion_auc(m, x[0], np.ones((12, 12))),
                             ValueError, r"Add a batch axis: x\[None\]"),
    "metric wrong channels": (lambda m, x: metrics.insertion_auc(m, x[..., :1],
                                                                 np.ones((2, 12, 12))),
                              ValueError, "channels"),
    "metric empty batch": (lambda m, x: metrics.drop_increase(m, x[:0], np.ones((0, 12, 12))),
                           ValueError, "empty batch"),
    "deletion steps > points": (lambda m, x: metrics.deletion_auc(m, x, np.ones((2, 12, 12)),
                                                                  steps=10**6),
                                ValueError, "at most steps=144"),
    "deletion steps=True": (lambda m, x: metrics.deletion_auc(m, x, np.ones((2, 12, 12)),
                                                              steps=True),
                            ValueError, "steps must be a positive integer"),
    "ig max_steps=1": (lambda m, x: xai.integrated_gradients(m, x, steps="auto", max_steps=1),
                       ValueError, "max_steps must be an integer ≥ 2"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_clear_error(model, x, case):
    call, error, message = CASES[case]
    with pytest.raises(error, match=message):
        call(model, x)


def test_ig_auto_respects_a_small_max_steps(model, x):
    """steps="auto" with max_steps=8 used to run 32 steps: it now stops at the cap it was given."""
    with pytest.warns(RuntimeWarning, match="at the cap of 8 steps"):
        xai.integrated_gradients(model, x, steps="auto", max_steps=8, tol=1e-9)


# ------------------------------------------------------------------ models xai cannot map
def _model(shape, *hidden):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input(shape), *hidden])


def test_an_output_that_is_not_one_score_per_class_is_refused_by_every_method():
    """An output (N, 1, 5) met a raw TensorFlow InvalidArgumentError (or silently odd maps)."""
    net = _model((8, 8, 1), keras.layers.Conv2D(4, 3, activation="relu"),
                 keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(5),
                 keras.layers.Reshape((1, 5)))
    x = np.random.default_rng(0).random((2, 8, 8, 1)).astype(np.float32)
    for method in xai.METHODS:
        with pytest.raises(ValueError, match=r"outputs shape \(None, 1, 5\).*\(N, classes\).*"
                                             r"Flatten"):
            xai.explain(net, x, method=method)


def test_channels_first_models_are_refused_by_map_methods_and_explained_by_gradients():
    """Channels-first layers gave (2, 3, 16) maps over (channel, row) instead of (row, col)."""
    net = _model((3, 16, 16),
                 keras.layers.Conv2D(4, 3, activation="relu", data_format="channels_first"),
                 keras.layers.GlobalAveragePooling2D(data_format="channels_first"),
                 keras.layers.Dense(3))
    x = np.random.default_rng(1).random((2, 3, 16, 16)).astype(np.float32)
    mapping = [n for n, m in xai.METHODS.items() if m.returns == "map" or m.layer is not None]
    assert {"gradcam", "scorecam", "rise", "sise", "guided_gradcam"} <= set(mapping)
    for method in mapping:
        with pytest.raises(ValueError, match="channels-first layers.*data_format='channels_last'"
                                             ".*np.moveaxis.*'saliency'"):
            xai.explain(net, x, method=method)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        logit = net(xt)[:, 2]
    np.testing.assert_allclose(xai.saliency(net, x, target=2), tape.gradient(logit, xt).numpy(),
                               rtol=1e-5, atol=1e-7)
