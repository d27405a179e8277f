"""Max-sensitivity (Yeh et al. 2019) on explainers whose answer is known."""
import keras
import numpy as np
import pytest

from xai import metrics

from helpers import gap_net


def linear_logits(shape, classes=3, seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape), keras.layers.Flatten(),
                             keras.layers.Dense(classes)])


def test_constant_and_linear_saliency_have_zero_sensitivity(rng):
    x = rng.normal(size=(3, 12, 12, 3)).astype(np.float32)
    model = gap_net()

    def constant(m, xb, target=None):
        return np.ones(xb.shape[:-1], np.float32)

    np.testing.assert_array_equal(metrics.max_sensitivity(model, x, constant), 0.0)
    # the gradient of a linear logit is its weight row, whatever the input
    lin = linear_logits((12, 12, 3))
    s = metrics.max_sensitivity(lin, x, "saliency", radius=0.1, n_perturbations=5)
    np.testing.assert_allclose(s, 0.0, atol=1e-6)
    # a ReLU network's gradient moves with the input
    assert (metrics.max_sensitivity(model, x, "saliency", radius=0.1, n_perturbations=5)
            > 1e-3).all()


def test_identity_explainer_gives_the_perturbation_norm(rng):
    """Φ(x) = x: the change is ‖δ‖₂ with δ ~ U[−r s, r s]^d, s the value range; for large d
    ‖δ‖₂ ≈ r s √(d / 3) (the uniform's variance (r s)² / 3), never more than r s √d."""
    x = rng.normal(size=(2, 12, 12, 3)).astype(np.float32)
    d, r = x[0].size, 0.05
    span = x.reshape(2, -1).max(1) - x.reshape(2, -1).min(1)

    def identity(m, xb, target=None):
        return xb

    absolute = metrics.max_sensitivity(gap_net(), x, identity, radius=r, n_perturbations=4,
                                       relative=False)
    np.testing.assert_allclose(absolute, r * span * np.sqrt(d / 3), rtol=0.1)
    assert (absolute <= r * span * np.sqrt(d)).all()
    rel = metrics.max_sensitivity(gap_net(), x, identity, radius=r, n_perturbations=4)
    np.testing.assert_allclose(rel, absolute / np.linalg.norm(x.reshape(2, -1), axis=1))


def test_a_noisy_explainer_is_less_robust_than_gradcam(rng):
    model = gap_net()
    x = rng.normal(size=(3, 12, 12, 3)).astype(np.float32)
    noise = np.random.default_rng(1)

    def random_map(m, xb, target=None):
        return noise.random(xb.shape[:-1])

    smooth = metrics.max_sensitivity(model, x, "gradcam", layer="conv_b", radius=0.02, seed=0)
    noisy = metrics.max_sensitivity(model, x, random_map, radius=0.02, seed=0)
    assert (noisy > smooth).all() and (noisy > 0.5).all()
    # seeded
    np.testing.assert_array_equal(
        smooth, metrics.max_sensitivity(model, x, "gradcam", layer="conv_b", radius=0.02, seed=0))
    with pytest.raises(ValueError, match="radius"):
        metrics.max_sensitivity(model, x, "gradcam", radius=0)
    with pytest.raises(ValueError, match="n_perturbations"):
        metrics.max_sensitivity(model, x, "gradcam", n_perturbations=0)


def test_a_random_method_is_seeded_with_the_metric_seed():
    """RISE draws new masks on every unseeded call; the metric fixes them with its seed, so a
    radius far below any effect leaves max-sensitivity ~0 (not the masks' own variation)."""
    net = gap_net()
    x = np.random.default_rng(2).normal(size=(2, 12, 12, 3)).astype(np.float32)
    sens = metrics.max_sensitivity(net, x, "rise", radius=1e-7, n_perturbations=2, seed=3,
                                   n_masks=16, progress=False)
    assert sens.max() < 1e-3
