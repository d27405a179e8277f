"""Finer-CAM against its equation: on a GAP + Dense net the gradient of S = Σ_d p_d (y_c − α y_d)
/ Σ_d p_d is (W_c − Σ_d p̂_d α W_d) / (h·w) at every position, computed here in NumPy."""
import keras
import numpy as np
import pytest

import xai

from helpers import gap_net


def _acts_and_logits(model, x):
    """A at the conv layer (NumPy) and the logits, from the model's own weights."""
    conv = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
    A = keras.Model(model.inputs[0], conv.output)(x).numpy().astype(np.float64)
    W, b = (v.numpy().astype(np.float64) for v in model.layers[-1].weights)
    return A, W, b, A.mean((1, 2)) @ W + b


def _reference(model, x, target, alpha, compare):
    """ReLU(Σ_k w_k A^k) with w = ∂S/∂A averaged over positions, in NumPy."""
    A, W, b, z = _acts_and_logits(model, x)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    maps = []
    for i in range(len(x)):
        c = target[i]
        d = compare[i] if compare is not None else [
            j for j in np.argsort(np.abs(z[i] - z[i, c]), kind="stable") if j != c][:3]
        q = p[i, d] / p[i, d].sum()
        w = (W[:, c] - alpha * (q[:, None] * W[:, d].T).sum(0)) / (A.shape[1] * A.shape[2])
        maps.append(np.maximum((A[i] * w).sum(-1), 0))
    return np.stack(maps)


@pytest.fixture(scope="module")
def net():
    return gap_net(seed=3, classes=6)


def test_alpha_zero_is_the_base_cam(net, rng):
    x = rng.random((4, 12, 12, 3)).astype(np.float32)
    for base in ("gradcam", "gradcam++", "layercam"):
        finer = xai.finercam(net, x, alpha=0.0, base=base, progress=False)
        np.testing.assert_allclose(finer, xai.weighted_cam(net, x, method=base), atol=1e-5)


def test_nearest_classes_follow_the_equation(net, rng):
    x = rng.random((5, 12, 12, 3)).astype(np.float32)
    targets = [0, 1, 2, 3, 4]
    got = xai.finercam(net, x, target=targets, alpha=0.7, k=3, normalize=False, upsample=False)
    np.testing.assert_allclose(got, _reference(net, x, targets, 0.7, None), rtol=1e-4, atol=1e-6)


def test_one_compared_class_is_the_cam_of_the_difference(net, rng):
    x = rng.random((3, 12, 12, 3)).astype(np.float32)
    compare = [[5], [0], [2]]
    got = xai.finercam(net, x, target=[1, 1, 1], alpha=1.0, compare=compare, normalize=False,
                       upsample=False)
    np.testing.assert_allclose(got, _reference(net, x, [1, 1, 1], 1.0, compare), rtol=1e-4,
                               atol=1e-6)
    # one list for all samples is the same as that list on every row
    same = xai.finercam(net, x, target=1, compare=[5, 0], normalize=False, upsample=False)
    np.testing.assert_allclose(same, _reference(net, x, [1] * 3, 1.0, [[5, 0]] * 3), rtol=1e-4,
                               atol=1e-6)


def test_the_top1_target_and_batches(net, rng):
    x = rng.random((7, 12, 12, 3)).astype(np.float32)
    top = xai.scores.top_classes(net, x)
    whole = xai.finercam(net, x, batch_size=32)
    np.testing.assert_allclose(whole, xai.finercam(net, x, target=top), atol=1e-6)
    looped = np.concatenate([xai.finercam(net, x[i:i + 1]) for i in range(len(x))])
    np.testing.assert_allclose(xai.finercam(net, x, batch_size=3, progress=False), looped,
                               atol=1e-6)
    np.testing.assert_allclose(whole, looped, atol=1e-6)


def test_binary_model_compares_with_the_other_class(rng):
    """One sigmoid unit: z = [−y, y], so y_1 − α y_0 = (1 + α) y: the base CAM, rescaled."""
    model = gap_net(seed=1, classes=1, head="sigmoid")
    x = rng.random((3, 12, 12, 3)).astype(np.float32)
    np.testing.assert_allclose(xai.finercam(model, x, target=1),
                               xai.weighted_cam(model, x, target=1), atol=1e-5)


def test_bad_options_are_named(net, rng):
    x = rng.random((1, 12, 12, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="base must be a gradient CAM"):
        xai.finercam(net, x, base="eigencam")
    with pytest.raises(ValueError, match="k .* positive integer"):
        xai.finercam(net, x, k=0)
    with pytest.raises(ValueError, match="compare must be class indices"):
        xai.finercam(net, x, compare=[9])
    assert xai.metrics.passes(net, "finercam") == {"forward": 1, "backward": 1, "exact": True}
