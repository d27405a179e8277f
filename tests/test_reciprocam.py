"""Recipro-CAM (Byun & Lee, 2022) against NumPy references of its definition: the map at p is the
target's score of the feature map that keeps position p only, run through the network's tail."""
import keras
import numpy as np
import pytest

from xai import metrics
from xai.reciprocam import reciprocam, spatial_masks

from helpers import conv1d_net, gap_net


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _acts(model, name, x):
    return keras.Model(model.inputs, model.get_layer(name).output)(x).numpy().astype(np.float64)


def _sharpen(dense, factor):
    """Scale a Dense kernel so that the positions' probabilities differ clearly (a GAP head on
    one position of 64 gives nearly uniform softmax outputs with random weights)."""
    dense.kernel.assign(dense.kernel * factor)


def _gap_reference(model, x, classes, score="probability", masks=None):
    """softmax(W·(Σ_q M_p(q))·A_p/(h·w) + b)_c per position p, from A and the Dense weights:
    the feature map M_p(q)·A_p pooled (one-hot masks: Σ_q M_p(q) = 1)."""
    A = _acts(model, "conv_b", x)  # (N, h, w, K)
    n, h, w, k = A.shape
    weight = np.ones(h * w) if masks is None else masks.reshape(h * w, -1).sum(1)
    W, b = (v.numpy().astype(np.float64) for v in model.get_layer("head").weights)
    pooled = A.reshape(n, h * w, k) * weight[None, :, None] / (h * w)
    z = pooled @ W + b  # (N, P, classes)
    s = _softmax(z) if score == "probability" else z
    return s[np.arange(n), :, classes].reshape(n, h, w)


@pytest.fixture(scope="module")
def net():
    model = gap_net(size=8, classes=4)
    _sharpen(model.get_layer("head"), 40.0)
    return model


@pytest.fixture
def x(rng):
    return rng.random((3, 8, 8, 3)).astype(np.float32)


@pytest.mark.parametrize("score", ["probability", "logit"])
def test_onehot_map_is_the_gap_head_on_one_position(net, x, score):
    target = [0, 3, 1]
    got = reciprocam(net, x, "conv_b", target, score, normalize=False, upsample=False,
                     progress=False)
    assert got.shape == (3, 8, 8)
    np.testing.assert_allclose(got, _gap_reference(net, x, target, score), rtol=2e-5, atol=1e-6)


def _gaussian_masks(h, w):
    """The 3×3 kernel [[1, 2, 1], [2, 4, 2], [1, 2, 1]] / 16 centred on each position, cut at
    the border (written out position by position)."""
    kernel = np.outer([1, 2, 1], [1, 2, 1]) / 16.0
    masks = np.zeros((h * w, h, w))
    for i in range(h):
        for j in range(w):
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    if 0 <= i + di < h and 0 <= j + dj < w:
                        masks[i * w + j, i + di, j + dj] = kernel[di + 1, dj + 1]
    return masks


def test_gaussian_kernel_masks_and_map(net, x):
    masks = _gaussian_masks(8, 8)
    np.testing.assert_allclose(spatial_masks((8, 8), "gaussian"), masks, atol=1e-7)
    np.testing.assert_array_equal(spatial_masks((3, 4)), np.eye(12).reshape(12, 3, 4))
    got = reciprocam(net, x, "conv_b", 2, kernel="gaussian", normalize=False, upsample=False,
                     progress=False)
    np.testing.assert_allclose(got, _gap_reference(net, x, [2] * 3, masks=masks), rtol=2e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match="kernel must be one of"):
        reciprocam(net, x, kernel="box")


def test_default_maps_are_min_max_scaled_and_upsampled(net, x):
    raw = _gap_reference(net, x, [1] * 3)
    lo, hi = raw.min((1, 2), keepdims=True), raw.max((1, 2), keepdims=True)
    small = reciprocam(net, x, target=1, upsample=False, progress=False)
    np.testing.assert_allclose(small, (raw - lo) / (hi - lo), atol=2e-4)
    full = reciprocam(net, x, target=1, progress=False)
    assert full.shape == (3, 8, 8) and full.dtype == np.float32
    np.testing.assert_allclose(full.max((1, 2)), 1.0, atol=1e-6)
    assert full.min() >= 0.0


def test_batched_equals_looped(net, rng):
    xs = rng.random((5, 8, 8, 3)).astype(np.float32)
    one = reciprocam(net, xs, normalize=False, batch_size=1, progress=False)
    seven = reciprocam(net, xs, normalize=False, batch_size=7, progress=False)
    looped = np.concatenate([reciprocam(net, xs[i:i + 1], normalize=False, batch_size=64,
                                        progress=False) for i in range(5)])
    np.testing.assert_allclose(one, seven, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(looped, seven, rtol=1e-5, atol=1e-7)


def test_target_none_is_each_samples_top1(net, x):
    top1 = np.argmax(net(x).numpy(), axis=-1)
    got = reciprocam(net, x, normalize=False, upsample=False, progress=False)
    np.testing.assert_allclose(got, _gap_reference(net, x, top1), rtol=2e-5, atol=1e-6)
    other = (top1 + 1) % 4
    explicit = reciprocam(net, x, target=other, normalize=False, upsample=False, progress=False)
    np.testing.assert_allclose(explicit, _gap_reference(net, x, other), rtol=2e-5, atol=1e-6)
    assert not np.allclose(explicit, got)


# ------------------------------------------------------------------ functional, Sequential, nested
def _layers():
    keras.utils.set_random_seed(3)
    return [keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1"),
            keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="c2"),
            keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="c3"),
            keras.layers.GlobalAveragePooling2D(name="pool"),
            keras.layers.Dense(4, name="dense"), keras.layers.Activation("softmax", name="act")]


def _hand_tail(c3, dense, A, target, score, masks=None):
    """The tail written out: each feature map M_p(q)·A_p through c3, then the mean, W and b."""
    n, h, w, k = A.shape
    masks = np.eye(h * w).reshape(h * w, h, w) if masks is None else masks
    centre = A.reshape(n, h * w, 1, 1, k)
    masked = (masks[None, ..., None] * centre).reshape(-1, h, w, k)
    pooled = c3(masked.astype(np.float32)).numpy().mean((1, 2))
    W, b = (v.numpy() for v in dense.weights)
    z = (pooled @ W + b).reshape(n, h * w, -1)
    s = _softmax(z) if score == "probability" else z
    return s[np.arange(n), :, target].reshape(n, h, w)


@pytest.mark.parametrize("score", ["probability", "logit"])
def test_functional_sequential_and_nested_models_match_a_hand_built_tail(rng, score):
    c1, c2, c3, pool, dense, act = _layers()
    inp = keras.Input((6, 6, 3))
    functional = keras.Model(inp, act(dense(pool(c3(c2(c1(inp)))))))
    sequential = keras.Sequential([keras.Input((6, 6, 3)), c1, c2, c3, pool, dense, act])
    base = keras.Model(inp, c3(c2(c1(inp))), name="base")  # the CAM layer inside, c3 after it
    nested = keras.Sequential([keras.Input((6, 6, 3)), base, pool, dense, act])
    cut = keras.Model(inp, c2(c1(inp)), name="cut")  # the CAM layer is its output
    on_top = keras.Sequential([keras.Input((6, 6, 3)), cut, c3, pool, dense, act])
    inner = keras.Model(inp, act(dense(pool(c3(c2(c1(inp)))))), name="classifier")
    wrapped = keras.Sequential([keras.Input((6, 6, 3)), inner])  # the softmax is nested too
    _sharpen(dense, 20.0)
    x = rng.random((2, 6, 6, 3)).astype(np.float32)
    A = keras.Model(inp, c2(c1(inp)))(x).numpy()
    expected = _hand_tail(c3, dense, A, [1, 2], score)
    for model in (functional, sequential, nested, on_top, wrapped):
        got = reciprocam(model, x, "c2", [1, 2], score, normalize=False, upsample=False,
                         progress=False)
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6, err_msg=model.name)
    # the Gaussian variant: c3 sees the 3×3 spread of each position's feature vector
    spread = _hand_tail(c3, dense, A, [1, 2], score, _gaussian_masks(6, 6))
    got = reciprocam(nested, x, "c2", [1, 2], score, "gaussian", normalize=False, upsample=False,
                     progress=False)
    np.testing.assert_allclose(got, spread, rtol=2e-5, atol=1e-6)
    assert not np.allclose(spread, expected, rtol=1e-3)


def test_one_dimensional_signals(rng):
    """Flatten → Dense: keeping position t only gives z = Σ_k W[t·K + k] A_tk + b."""
    model = conv1d_net(length=10)
    _sharpen(model.layers[-1], 10.0)
    x = rng.random((3, 10, 1)).astype(np.float32)
    A = keras.Model(model.inputs, model.get_layer("c2").output)(x).numpy()
    W, b = (v.numpy() for v in model.layers[-1].weights)
    z = np.einsum("ntk,tkc->ntc", A, W.reshape(10, 4, -1)) + b
    expected = _softmax(z)[np.arange(3), :, [0, 2, 1]]
    got = reciprocam(model, x, "c2", [0, 2, 1], normalize=False, upsample=False, progress=False)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)
    assert reciprocam(model, x, progress=False).shape == (3, 10)
    # Gaussian: A_t spread over t-1, t, t+1 with weights 1/4, 1/2, 1/4 (cut at the ends)
    spread = np.eye(10) / 2 + np.eye(10, k=1) / 4 + np.eye(10, k=-1) / 4  # [t, q]
    z = np.einsum("tq,ntk,qkc->ntc", spread, A, W.reshape(10, 4, -1)) + b
    got = reciprocam(model, x, "c2", [0, 2, 1], kernel="gaussian", normalize=False,
                     upsample=False, progress=False)
    np.testing.assert_allclose(got, _softmax(z)[np.arange(3), :, [0, 2, 1]], rtol=2e-5,
                               atol=1e-6)


def test_binary_sigmoid_classes_are_complementary(rng):
    model = gap_net(size=8, classes=1, head="sigmoid")
    _sharpen(model.get_layer("head"), 40.0)
    x = rng.random((2, 8, 8, 3)).astype(np.float32)
    p1, p0 = (reciprocam(model, x, target=t, normalize=False, upsample=False, progress=False)
              for t in (1, 0))
    np.testing.assert_allclose(p0, 1.0 - p1, atol=1e-6)
    A = _acts(model, "conv_b", x)
    W, b = (v.numpy() for v in model.get_layer("head").weights)
    np.testing.assert_allclose(p1, 1 / (1 + np.exp(-(A @ W[:, 0] / 64 + b[0]))), rtol=2e-5)


def test_a_skip_connection_around_the_layer_is_refused_with_the_fix(rng):
    inp = keras.Input((6, 6, 3))
    a = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="a")(inp)
    b = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="b")(a)
    h = keras.layers.Add(name="add")([a, b])
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling2D()(h))
    model = keras.Model(inp, out)
    x = rng.random((1, 6, 6, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="skip connection.*whose output alone feeds"):
        reciprocam(model, x, layer="b")
    assert reciprocam(model, x, layer="add", progress=False).shape == (1, 6, 6)


def test_passes_count_the_full_forward_pass_only(net):
    assert metrics.passes(net, "reciprocam") == {"forward": 1, "backward": 0, "exact": True}


def test_the_cached_tail_follows_new_weights(x):
    model = gap_net(seed=5, size=8, classes=4)
    before = reciprocam(model, x, "conv_b", 1, normalize=False, upsample=False, progress=False)
    _sharpen(model.get_layer("head"), 30.0)
    after = reciprocam(model, x, "conv_b", 1, normalize=False, upsample=False, progress=False)
    np.testing.assert_allclose(after, _gap_reference(model, x, [1] * 3), rtol=2e-5, atol=1e-6)
    assert not np.allclose(before, after)
