"""Bad input gets one clear error that names the fix — through xai.explain, the exported functions
and the metrics alike (regressions from the front-door review)."""
import numpy as np
import pytest

import xai
from helpers import gap_net
from xai import metrics


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
