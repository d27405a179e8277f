"""The CAM family against its equations, written here independently in NumPy."""
import cv2
import keras
import numpy as np
import pytest
from skimage import data

import xai

from helpers import acts_and_grads, gap_net, spearman

SPATIAL = (1, 2)


def np_gradcam(A, G):
    return np.maximum((G.mean(SPATIAL, keepdims=True) * A).sum(-1), 0)


def np_gradcampp(A, G):
    num = G ** 2
    den = 2 * G ** 2 + A.sum(SPATIAL, keepdims=True) * G ** 3
    alpha = np.where(den != 0, num / np.where(den != 0, den, 1), 0)
    w = (alpha * np.maximum(G, 0)).sum(SPATIAL, keepdims=True)
    return np.maximum((w * A).sum(-1), 0)


def np_xgradcam(A, G):
    total = A.sum(SPATIAL, keepdims=True)
    w = (np.where(total != 0, A / np.where(total != 0, total, 1), 0) * G).sum(SPATIAL,
                                                                               keepdims=True)
    return np.maximum((w * A).sum(-1), 0)


def np_hirescam(A, G):
    return np.maximum((G * A).sum(-1), 0)


def np_layercam(A, G):
    return np.maximum((np.maximum(G, 0) * A).sum(-1), 0)


def np_eigencam(A):
    out = []
    for a in A:
        m = a.reshape(-1, a.shape[-1])
        c = m - m.mean(0)
        v = np.linalg.svd(c, full_matrices=False)[2][0]
        p = c @ v
        if np.corrcoef(p, m.mean(1))[0, 1] < 0:
            p = -p
        out.append(np.maximum(p, 0).reshape(a.shape[:-1]))
    return np.stack(out)


@pytest.fixture(scope="module")
def net():
    return gap_net()


@pytest.fixture(scope="module")
def batch():
    return np.random.default_rng(1).normal(size=(5, 12, 12, 3)).astype(np.float32)


@pytest.mark.parametrize("method,ref", [("gradcam", np_gradcam), ("gradcam++", np_gradcampp),
                                        ("xgradcam", np_xgradcam), ("layercam", np_layercam),
                                        ("hirescam", np_hirescam)])
@pytest.mark.parametrize("layer", ["conv_a", "conv_b"])
def test_gradient_cams_match_numpy_equations(net, batch, method, ref, layer):
    target = np.array([0, 1, 2, 3, 1])
    A, G, _ = acts_and_grads(net, layer, batch, target)
    got = xai.explain(net, batch, method=method, layer=layer, target=target, normalize=False,
                      upsample=False)
    np.testing.assert_allclose(got, ref(A, G), rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize("method,ref", [("gradcam", np_gradcam), ("gradcam++", np_gradcampp),
                                        ("layercam", np_layercam)])
def test_counterfactual_cams_use_negated_gradients(net, batch, method, ref):
    """Selvaraju et al. (2017), sec. 5: the counterfactual map is the rule applied to −∂S/∂A."""
    target = np.array([2, 0, 1, 3, 2])
    A, G, _ = acts_and_grads(net, "conv_a", batch, target)
    got = xai.explain(net, batch, method=method, layer="conv_a", target=target,
                      counterfactual=True, normalize=False, upsample=False)
    np.testing.assert_allclose(got, ref(A, -G), rtol=2e-4, atol=1e-6)
    assert not np.allclose(got, ref(A, G), atol=1e-6)  # it is not the plain map
    with pytest.raises(ValueError, match="Eigen-CAM uses none"):
        xai.explain(net, batch, method="eigencam", counterfactual=True)


def test_eigencam_matches_numpy_svd(net, batch):
    A, _, _ = acts_and_grads(net, "conv_b", batch, np.zeros(5, int))
    got = xai.explain(net, batch, method="eigencam", normalize=False, upsample=False)
    np.testing.assert_allclose(got, np_eigencam(A), rtol=1e-3, atol=1e-4)


def test_gradcam_equals_cam_on_a_gap_net(net, batch):
    """Grad-CAM paper, sec. 3.1: with GAP then a linear layer, Grad-CAM = CAM / (h·w)."""
    A, _, _ = acts_and_grads(net, "conv_b", batch, np.zeros(5, int))
    w = net.get_layer("head").kernel.numpy()  # (K, classes)
    for c in range(4):
        cam = np.maximum(np.einsum("nhwk,k->nhw", A, w[:, c]), 0)
        got = xai.explain(net, batch, method="gradcam", target=c, normalize=False,
                          upsample=False)
        np.testing.assert_allclose(got * A.shape[1] * A.shape[2], cam, rtol=2e-4, atol=1e-6)


def test_hirescam_equals_gradcam_on_a_gap_net_but_not_elsewhere(net, batch):
    """Draelos & Carin (2020), sec. 3: when the gradient is the same at every position (GAP then
    a linear layer) HiResCAM = Grad-CAM; through a later convolution they differ."""
    for layer, same in (("conv_b", True), ("conv_a", False)):
        maps = [xai.explain(net, batch, method=m, layer=layer, target=2, normalize=False,
                            upsample=False) for m in ("hirescam", "gradcam")]
        assert np.allclose(*maps, rtol=1e-4, atol=1e-6) == same


def test_gradcam_equals_cam_on_real_mobilenet(mobilenet):
    """MobileNet ends conv_pw_13_relu → GAP → 1×1 conv (the class weights) → softmax."""
    x = keras.applications.mobilenet.preprocess_input(
        cv2.resize(data.chelsea(), (224, 224), interpolation=cv2.INTER_AREA).astype(np.float32))
    A = keras.Model(mobilenet.inputs, mobilenet.get_layer("conv_pw_13_relu").output)(x[None])
    w = mobilenet.get_layer("conv_preds").kernel.numpy()[0, 0]  # (K, 1000)
    for c in (285, 281, 1):
        cam = np.maximum(np.einsum("nhwk,k->nhw", np.asarray(A, np.float64), w[:, c]), 0)
        got = xai.explain(mobilenet, x[None], target=c, normalize=False, upsample=False)
        np.testing.assert_allclose(got * 49, cam, rtol=1e-3, atol=1e-4)


def test_logit_is_the_pre_softmax_score(net, batch):
    _, _, z = acts_and_grads(net, "conv_b", batch, np.zeros(5, int))
    np.testing.assert_allclose(xai.scores.class_scores(net, batch, "logit"), z, rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(xai.scores.class_scores(net, batch, "probability"),
                               np.asarray(net(batch)), rtol=1e-5, atol=1e-6)


def test_maps_are_normalised_upsampled_and_finite(net, batch):
    for method in ("gradcam", "gradcam++", "xgradcam", "layercam", "eigencam", "scorecam"):
        m = xai.explain(net, batch, method=method)
        assert m.shape == (5, 12, 12) and m.dtype == np.float32
        assert np.isfinite(m).all() and m.min() >= 0
        np.testing.assert_allclose(m.reshape(5, -1).max(1)[m.reshape(5, -1).max(1) > 0], 1,
                                   rtol=1e-6)


def test_zero_gradients_give_zero_maps_not_nan():
    net = gap_net(seed=3)
    head = net.get_layer("head")
    head.kernel.assign(np.zeros(head.kernel.shape))
    x = np.random.default_rng(0).normal(size=(2, 12, 12, 3)).astype(np.float32)
    for method in ("gradcam", "gradcam++", "xgradcam", "layercam", "smooth_gradcam++"):
        m = xai.explain(net, x, method=method, **({"n": 2} if "smooth" in method else {}))
        assert np.isfinite(m).all() and (m == 0).all(), method


def test_smooth_gradcampp_adds_noise_and_reduces_to_gradcampp(net, batch):
    plain = xai.explain(net, batch, method="gradcam++")
    no_noise = xai.explain(net, batch, method="smooth_gradcam++", spread=0.0, n=3, seed=0)
    np.testing.assert_allclose(no_noise, plain, rtol=1e-4, atol=1e-5)
    noisy = xai.explain(net, batch, method="smooth_gradcam++", n=4, seed=0)
    again = xai.explain(net, batch, method="smooth_gradcam++", n=4, seed=0, batch_size=3)
    np.testing.assert_allclose(noisy, again, rtol=1e-5, atol=1e-6)  # seeded, batch-independent
    assert np.abs(noisy - plain).max() > 1e-2  # the noise is really there (VGG bug: σ → 0)


def test_scorecam_matches_reference(batch):
    """At input resolution (no resize), Score-CAM's weights are softmax_k S(x ⊙ minmax(A^k))."""
    net = gap_net(seed=5)
    A, _, _ = acts_and_grads(net, "conv_b", batch[:2], np.zeros(2, int))
    ref = []
    for i in range(2):
        masks = A[i].transpose(2, 0, 1)
        lo = masks.min((1, 2), keepdims=True)
        span = masks.max((1, 2), keepdims=True) - lo
        masks = np.where(span > 0, (masks - lo) / np.where(span > 0, span, 1), 0)
        z = xai.scores.class_scores(net, batch[i][None] * masks[..., None], "logit")
        top = np.argmax(xai.scores.class_scores(net, batch[i:i + 1], "logit"))
        w = np.exp(z[:, top] - z[:, top].max())
        w /= w.sum()
        ref.append(np.maximum((A[i] * w).sum(-1), 0))
    got = xai.explain(net, batch[:2], method="scorecam", normalize=False, batch_size=2)
    np.testing.assert_allclose(got, np.stack(ref), rtol=1e-4, atol=1e-6)


def np_resize(a, size):
    """Linear interpolation with half-pixel centres along each spatial axis of (B, *s)."""
    for axis, m in enumerate(size, 1):
        n = a.shape[axis]
        pos = np.clip((np.arange(m) + 0.5) * n / m - 0.5, 0, n - 1)
        lo = np.floor(pos).astype(int)
        f = (pos - lo).reshape([-1 if i == axis else 1 for i in range(a.ndim)])
        a = np.take(a, lo, axis) * (1 - f) + np.take(a, np.minimum(lo + 1, n - 1), axis) * f
    return a


def volume_net():
    """Conv3D → pooling → Conv3D → global pooling: a video / volume classifier."""
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input((4, 8, 8, 1)),
        keras.layers.Conv3D(4, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling3D(2),
        keras.layers.Conv3D(5, 3, padding="same", activation="relu", name="last"),
        keras.layers.GlobalAveragePooling3D(), keras.layers.Dense(3)])


def test_volumes_get_trilinear_cams_and_scorecam_rise_is_refused():
    """Conv3D models: maps at a pooled resolution are upsampled over (D, H, W) (tf.image failed
    there for Grad-CAM, Score-CAM and SISE); RISE, whose masks are 2-D, is refused by name."""
    net = volume_net()
    x = np.random.default_rng(4).random((2, 4, 8, 8, 1)).astype(np.float32)
    A, G, z = acts_and_grads(net, "last", x, np.array([0, 2]))
    spatial = (1, 2, 3)
    ref = np.maximum((G.mean(spatial, keepdims=True) * A).sum(-1), 0)
    got = xai.explain(net, x, target=[0, 2], normalize=False)
    np.testing.assert_allclose(got, np_resize(ref, (4, 8, 8)), rtol=1e-4, atol=1e-6)
    top = z.argmax(1)
    for i in range(2):  # Score-CAM: masks are the channels, trilinear upsampled, min-max scaled
        masks = np_resize(np.moveaxis(A[i], -1, 0), (4, 8, 8))
        lo = masks.min(spatial, keepdims=True)
        span = masks.max(spatial, keepdims=True) - lo
        masks = np.where(span > 0, (masks - lo) / np.where(span > 0, span, 1), 0)
        s = xai.scores.class_scores(net, x[i][None] * masks[..., None], "logit")[:, top[i]]
        w = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
        np.testing.assert_allclose(
            xai.explain(net, x[i:i + 1], method="scorecam", normalize=False, upsample=False)[0],
            np.maximum((A[i] * w).sum(-1), 0), rtol=1e-4, atol=1e-6)
    assert xai.explain(net, x, method="sise").shape == (2, 4, 8, 8)
    with pytest.raises(ValueError, match="RISE draws 1-D or 2-D masks.*'scorecam'"):
        xai.explain(net, x, method="rise")


def cat_image():
    return cv2.resize(data.chelsea(), (224, 224), interpolation=cv2.INTER_AREA)


def test_gradcam_mass_lies_on_the_cat(mobilenet):
    """skimage's chelsea: the cat fills the left ~80% of the frame; the right strip (x > 190
    of 224) is background. The top-1 (Egyptian cat) map must put far more mass per pixel on
    the cat than on the background, and most of its mass overall."""
    x = keras.applications.mobilenet.preprocess_input(cat_image().astype(np.float32))[None]
    m = xai.explain(mobilenet, x, method="gradcam")[0]
    cat, background = m[:, :185], m[:, 195:]
    assert cat.sum() / m.sum() > 0.9
    assert cat.mean() > 2 * background.mean()


def test_cat_and_dog_maps_peak_in_different_places(mobilenet, assets):
    """cat_dog.png: a bulldog stands in the upper middle, a tabby lies in the lower half."""
    img = cv2.cvtColor(cv2.imread(str(assets / "images" / "cat_dog.png")), cv2.COLOR_BGR2RGB)
    x = keras.applications.mobilenet.preprocess_input(
        cv2.resize(img, (224, 224)).astype(np.float32))[None]
    cat = xai.explain(mobilenet, x, target="tabby")[0]
    dog = xai.explain(mobilenet, x, target="bull_mastiff")[0]
    cat_box, dog_box = (slice(150, 224), slice(40, 200)), (slice(0, 120), slice(70, 170))
    assert cat[cat_box].mean() > 1.5 * cat[dog_box].mean()
    assert dog[dog_box].mean() > 1.5 * dog[cat_box].mean()
    cy, cx = np.unravel_index(cat.argmax(), cat.shape)
    dy, dx = np.unravel_index(dog.argmax(), dog.shape)
    assert np.hypot(cy - dy, cx - dx) > 60


def test_randomising_top_layers_changes_gradcam(mobilenet):
    """Adebayo et al. (2018) model randomisation: a map that survives it explains nothing."""
    x = keras.applications.mobilenet.preprocess_input(cat_image().astype(np.float32))[None]
    before = xai.explain(mobilenet, x, target=285)[0]
    rand = keras.models.clone_model(mobilenet)
    rand.set_weights(mobilenet.get_weights())
    rng = np.random.default_rng(0)
    for name in ("conv_preds", "conv_pw_13", "conv_dw_13", "conv_pw_12"):
        layer = rand.get_layer(name)
        layer.kernel.assign(rng.normal(0, 0.05, layer.kernel.shape).astype(np.float32))
    after = xai.explain(rand, x, target=285)[0]
    assert spearman(before, after) < 0.5
    # and the same call on the untouched model is unchanged (we never modify the user's model)
    np.testing.assert_allclose(xai.explain(mobilenet, x, target=285)[0], before, atol=1e-6)
