"""SISE (xai.sise): shapes on the study's models, determinism, batched == looped, a known-answer
model, an independent single-layer reference, the Otsu helper against scikit-image, errors."""
import random

import keras
import numpy as np
import pytest
import tensorflow as tf
from skimage.filters import threshold_otsu

from xai.perturbation import block_layers, fuse, otsu_threshold, select_channels, sise

from helpers import gap_net


# ------------------------------------------------------------------------ data and models
@pytest.fixture(scope="module")
def mnist1d_signals():
    """Real MNIST-1D signals (the package's generator; global random state restored)."""
    from mnist1d.data import get_dataset_args, make_dataset
    args = get_dataset_args()
    args.num_samples = 40
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return np.asarray(d["x"][:5], np.float32)[..., None]  # (5, 40, 1)


@pytest.fixture(scope="module")
def kather_tiles(assets):
    import skimage.io
    files = [sorted((assets / "kather2016").glob(f"{c}/*.tif"))[0]
             for c in ("01_TUMOR", "02_STROMA")]
    imgs = [skimage.io.imread(f)[..., :3].astype(np.float32) / 255.0 for f in files]
    return np.stack([tf.image.resize(im, (224, 224), "bilinear").numpy() for im in imgs])


def region_net(dims=2):
    """A hand-built classifier where class 0 only sees input channel 0, class 1 only channel 1.

    conv (4 filters: 0-1 read channel 0, 2-3 read channel 1) → max-pool → conv (each filter
    averages its own channel) → global average pooling → Dense: class 0 = filters 0+1,
    class 1 = filters 2+3 → softmax. No bias anywhere."""
    conv, pool, gap = ((keras.layers.Conv2D, keras.layers.MaxPooling2D,
                        keras.layers.GlobalAveragePooling2D) if dims == 2 else
                       (keras.layers.Conv1D, keras.layers.MaxPooling1D,
                        keras.layers.GlobalAveragePooling1D))
    shape = (32, 32, 2) if dims == 2 else (64, 2)
    inp = keras.Input(shape)
    c1 = conv(4, 3, padding="same", activation="relu", use_bias=False, name="c1")
    c2 = conv(4, 3, padding="same", activation="relu", use_bias=False, name="c2")
    dense = keras.layers.Dense(2, activation="softmax", use_bias=False, name="head")
    out = dense(gap()(c2(pool(2, name="pool")(c1(inp)))))
    model = keras.Model(inp, out, name=f"region_net_{dims}d")
    k = (3,) * dims
    w1 = np.zeros(k + (2, 4), np.float32)
    centre = (1,) * dims
    w1[..., 0, 0] = 1.0 / 3 ** dims           # channel-0 blur
    w1[centre + (0, 1)] = 1.0                 # channel-0 identity
    w1[..., 1, 2] = 1.0 / 3 ** dims           # channel-1 blur
    w1[centre + (1, 3)] = 1.0                 # channel-1 identity
    w2 = np.zeros(k + (4, 4), np.float32)
    for f in range(4):
        w2[..., f, f] = 1.0 / 3 ** dims
    head = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], np.float32) * (8.0 if dims == 2 else 4.0)
    c1.set_weights([w1])
    c2.set_weights([w2])
    dense.set_weights([head])
    return model


def region_input(dims=2):
    """Channel 0 has a blob in region R, channel 1 a blob in region Q; weak noise everywhere."""
    rng = np.random.default_rng(3)
    if dims == 2:
        x = rng.uniform(0, 0.1, (1, 32, 32, 2)).astype(np.float32)
        R, Q = (slice(4, 12), slice(4, 12)), (slice(18, 28), slice(16, 28))
    else:
        x = rng.uniform(0, 0.1, (1, 64, 2)).astype(np.float32)
        R, Q = (slice(6, 18),), (slice(40, 54),)
    x[(0,) + R + (0,)] += 1.0
    x[(0,) + Q + (1,)] += 1.0
    return x, R, Q


def _inside(shape, region):
    mask = np.zeros(shape, bool)
    mask[region] = True
    return mask


# ------------------------------------------------------------------------ shapes and defaults
def test_default_layers_are_block_ends(mnist1d_seed_model, hmt_seed_model, mobilenet):
    assert block_layers(hmt_seed_model) == ["conv2d_1", "conv2d_3"]  # before each max-pool
    # no downsampling at all: each convolution is its own block
    assert block_layers(mnist1d_seed_model) == ["conv1d", "conv1d_1", "conv1d_2"]
    # strided depthwise convolutions end MobileNet's blocks
    assert block_layers(mobilenet) == ["conv_pw_1_relu", "conv_pw_3_relu", "conv_pw_5_relu",
                                       "conv_pw_11_relu", "conv_pw_13_relu"]
    assert block_layers(region_net(2)) == ["c1", "c2"]


def test_mnist1d_shape_range_determinism(mnist1d_seed_model, mnist1d_signals):
    a = sise(mnist1d_seed_model, mnist1d_signals, progress=False)
    b = sise(mnist1d_seed_model, mnist1d_signals, progress=False)
    assert a.shape == (5, 40) and a.dtype == np.float32
    assert np.isfinite(a).all() and a.min() == 0.0 and np.allclose(a.max(1), 1.0)
    np.testing.assert_array_equal(a, b)


def test_batched_equals_looped(mnist1d_seed_model, mnist1d_signals):
    x = mnist1d_signals
    targets = [3, 0, 7, 1, 9]
    # batch_size 4 splits both the samples and the (sample, channel) masked passes unevenly
    batched = sise(mnist1d_seed_model, x, target=targets, batch_size=4, progress=False)
    looped = np.concatenate([sise(mnist1d_seed_model, x[i:i + 1], target=targets[i],
                                  progress=False) for i in range(len(x))])
    np.testing.assert_allclose(batched, looped, atol=1e-5)


def test_layer_order_does_not_matter(mnist1d_seed_model, mnist1d_signals):
    x = mnist1d_signals[:2]
    a = sise(mnist1d_seed_model, x, layers=["conv1d_2", "conv1d"], progress=False)
    b = sise(mnist1d_seed_model, x, layers=["conv1d", "conv1d_2"], progress=False)
    np.testing.assert_array_equal(a, b)
    c = sise(mnist1d_seed_model, x, layers=["conv1d", "conv1d_1", "conv1d_2"], progress=False)
    assert not np.allclose(a, c)  # the middle layer changes the fusion


def test_hmt_real_tiles(hmt_seed_model, kather_tiles):
    maps = sise(hmt_seed_model, kather_tiles, progress=False)
    assert maps.shape == (2, 224, 224) and maps.dtype == np.float32
    assert np.isfinite(maps).all() and maps.min() >= 0 and np.allclose(maps.max((1, 2)), 1.0)
    assert (maps.reshape(2, -1).std(1) > 0.05).all()  # a structured map, not a constant
    assert not np.allclose(maps[0], maps[1])


# ------------------------------------------------------------------------ known answers
@pytest.mark.parametrize("dims", [1, 2])
def test_known_region(dims):
    model = region_net(dims)
    x, R, Q = region_input(dims)
    size = x.shape[1:-1]
    inR, inQ = _inside(size, R), _inside(size, Q)
    for target, region in ((0, inR), (1, inQ)):
        m = sise(model, x, target=target, batch_size=3, progress=False)[0]
        inside, outside = m[region].mean(), m[~region].mean()
        assert inside > 3 * outside, (target, inside, outside)
        assert region[np.unravel_index(np.argmax(m), size)]
        assert m[region].sum() > 0.5 * m.sum()


def test_single_layer_matches_looped_reference():
    """V = Σ_k p_c(x ⊙ M_k) M_k / #kept, kept = channels with positive mean ∂p_c/∂A, written out
    channel by channel with plain Keras calls (normalize=False returns V of a single layer)."""
    model = gap_net(seed=4, size=12, channels=3, classes=4)
    x = np.random.default_rng(1).normal(size=(2, 12, 12, 3)).astype(np.float32)
    targets = [1, 2]
    got = sise(model, x, layers=["conv_a"], target=targets, normalize=False, batch_size=5,
               progress=False)
    layer = model.get_layer("conv_a")
    feats = keras.Model(model.inputs, layer.output)
    after = model.layers[model.layers.index(layer) + 1:]
    for i, c in enumerate(targets):
        with tf.GradientTape() as tape:
            a = feats(x[i:i + 1])
            tape.watch(a)
            h = a
            for lyr in after:
                h = lyr(h)
            p = h[0, c]
        g = tape.gradient(p, a).numpy()[0]
        a = a.numpy()[0]
        total, count = np.zeros((12, 12)), 0
        for k in range(a.shape[-1]):
            if g[..., k].mean() <= 0 or a[..., k].max() == a[..., k].min():
                continue
            mk = (a[..., k] - a[..., k].min()) / (a[..., k].max() - a[..., k].min())
            s = float(model(x[i:i + 1] * mk[None, ..., None])[0, c])
            total, count = total + s * mk, count + 1
        assert count > 0
        np.testing.assert_allclose(got[i], total / count, rtol=1e-4, atol=1e-6)


def test_fusion_adds_detail_only_inside_coarse_foreground():
    rng = np.random.default_rng(0)
    coarse = np.zeros((1, 16, 16), np.float32)
    coarse[0, 4:10, 4:10] = 1.0
    coarse += rng.uniform(0, 0.05, coarse.shape).astype(np.float32)
    fine = rng.uniform(0, 1, (1, 16, 16)).astype(np.float32)
    fused = fuse([fine, coarse])  # shallowest first
    fg = coarse > threshold_otsu(coarse[0])
    assert fg[0, 4:10, 4:10].all() and fg.sum() == 36
    assert fused.min() == 0.0 and fused.max() == 1.0
    # outside the coarse foreground the fused map is the (rescaled) coarse map, fine is ignored
    n = (coarse - coarse.min()) / (coarse.max() - coarse.min())
    raw = np.where(fg, n + (fine - fine.min()) / (fine.max() - fine.min()), n)
    np.testing.assert_allclose(fused, (raw - raw.min()) / (raw.max() - raw.min()), atol=1e-6)
    # inside, the fine detail shows: fused ranks like the fine map
    assert np.corrcoef(fused[fg], fine[fg])[0, 1] > 0.9
    np.testing.assert_array_equal(fuse([np.zeros_like(fine), np.zeros_like(coarse)]), 0.0)


def test_channel_selection_rule():
    g = np.array([[0.5, -0.1, 0.2, 0.0, 1.0], [-1.0, -2.0, -0.1, -0.3, -0.5]])
    varies = np.array([[True, True, True, True, False]] * 2)
    np.testing.assert_array_equal(select_channels(g, varies, 0.0),
                                  [[True, False, True, False, False], [False] * 5])
    # μ is relative to the largest average gradient (here 1.0, a constant channel)
    np.testing.assert_array_equal(select_channels(g, np.ones_like(varies), 0.3)[0],
                                  [True, False, False, False, True])


def test_zero_input_gives_zeros_not_nan():
    model = region_net(2)
    maps = sise(model, np.zeros((2, 32, 32, 2), np.float32), progress=False)
    assert maps.shape == (2, 32, 32) and np.isfinite(maps).all() and (maps == 0).all()


def test_threshold_keeps_fewer_channels_but_same_region():
    model = region_net(2)
    x, R, _ = region_input(2)
    m = sise(model, x, target=0, threshold=0.9, progress=False)[0]
    inR = _inside((32, 32), R)
    assert np.isfinite(m).all() and m[inR].mean() > 3 * m[~inR].mean()


# ------------------------------------------------------------------------ Otsu helper
@pytest.mark.parametrize("make", [
    lambda r: r.random((4, 30, 30)),
    lambda r: r.normal(size=(3, 100)),
    lambda r: np.concatenate([r.normal(0, 1, (2, 300)), r.normal(5, 0.5, (2, 200))], 1),
    lambda r: r.exponential(size=(2, 17, 9)).astype(np.float32),
    lambda r: np.round(r.random((2, 64)), 1),  # many ties
])
def test_otsu_matches_skimage(make):
    data = make(np.random.default_rng(7))
    ours = otsu_threshold(data)
    ref = np.array([threshold_otsu(np.asarray(d)) for d in data], np.float64)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-7)


def test_otsu_constant_map():
    np.testing.assert_array_equal(otsu_threshold(np.full((2, 5, 5), 0.25)), [0.25, 0.25])


# ------------------------------------------------------------------------ errors
def test_bad_layer_name_lists_spatial_layers(hmt_seed_model, kather_tiles):
    with pytest.raises(ValueError, match="No layer named 'nope'.*'conv2d_1'.*'conv2d_3'"):
        sise(hmt_seed_model, kather_tiles[:1], layers=["conv2d_1", "nope"], progress=False)
    with pytest.raises(ValueError, match="not a spatial feature map.*'conv2d'"):
        sise(hmt_seed_model, kather_tiles[:1], layers="dense", progress=False)


@pytest.mark.parametrize("kwargs, match", [
    (dict(threshold=1.0), "threshold"), (dict(threshold=-0.1), "threshold"),
    (dict(score="softmax"), "score"), (dict(batch_size=0), "batch_size"),
    (dict(layers=[]), "layers is empty"), (dict(target=5), "outside"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sise(region_net(1), region_input(1)[0], progress=False, **kwargs)


def test_progress_bars_honour_tqdm_disable(monkeypatch, capfd):
    """TQDM_DISABLE=1 (set when the test session starts) silences every progress bar, SISE's
    too, even with progress=True; with it unset the same call does draw a bar."""
    import xai
    model = gap_net(size=8, classes=3)
    x = np.random.default_rng(0).random((2, 8, 8, 3), np.float32)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    capfd.readouterr()
    sise(model, x, batch_size=1, progress=True)
    xai.explain(model, x, method="rise", n_masks=4, batch_size=1, progress=True, seed=0)
    assert capfd.readouterr().err == ""
    monkeypatch.delenv("TQDM_DISABLE")
    sise(model, x, batch_size=1, progress=True)
    assert "SISE" in capfd.readouterr().err


def test_sise_reports_progress_to_a_callable():
    """The demo's progress callback: called on each masked pass, ending at done == total."""
    model = gap_net(size=8, classes=3)
    x = np.random.default_rng(0).random((2, 8, 8, 3), np.float32)
    calls = []
    sise(model, x, batch_size=1, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] > 1
    assert [d for d, _ in calls] == list(range(1, len(calls) + 1))
