"""The front door: layers, targets, batching, retracing, 1-D models and clear errors."""
import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf
from skimage import data

import xai

from helpers import acts_and_grads, gap_net

CAMS = ("gradcam", "gradcam++", "smooth_gradcam++", "xgradcam", "layercam", "hirescam",
        "eigencam", "scorecam", "finercam", "shapleycam", "reciprocam", "opticam")
GRADIENTS = ("saliency", "smoothgrad", "integrated_gradients", "guided_backprop",
             "guided_gradcam")
FAST = {"smooth_gradcam++": {"n": 3, "seed": 0}, "smoothgrad": {"n": 3, "seed": 0},
        "integrated_gradients": {"steps": 8}, "rise": {"n_masks": 64, "seed": 0},
        "opticam": {"iterations": 5}}


def test_methods_registry_is_complete():
    assert set(xai.METHODS) == set(CAMS + GRADIENTS + ("rise", "sise"))
    assert set(xai.MAP_METHODS) == set(CAMS + ("rise", "sise"))


EXPORTED = {"gradcam": xai.weighted_cam, "smooth_gradcam++": xai.smooth_gradcampp,
            "scorecam": xai.scorecam, "saliency": xai.saliency, "smoothgrad": xai.smoothgrad,
            "integrated_gradients": xai.integrated_gradients,
            "guided_backprop": xai.guided_backprop, "guided_gradcam": xai.guided_gradcam,
            "rise": xai.rise, "sise": xai.sise, "finercam": xai.finercam,
            "shapleycam": xai.shapleycam, "reciprocam": xai.reciprocam,
            "opticam": xai.opticam}


@pytest.mark.parametrize("method", list(EXPORTED))
def test_exported_function_is_the_checked_front_door(method):
    """One registry: the exported function, xai.METHODS[name] and xai.explain give the same
    result and run the same checks."""
    net = gap_net(seed=14)
    x = np.random.default_rng(8).normal(size=(2, 12, 12, 3)).astype(np.float32)
    opts = FAST.get(method, {})
    via_explain = xai.explain(net, x, method=method, target=[1, 2], **opts)
    np.testing.assert_array_equal(EXPORTED[method](net, x, target=[1, 2], **opts), via_explain)
    np.testing.assert_array_equal(xai.METHODS[method](net, x, target=[1, 2], **opts),
                                  via_explain)
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN or inf.*nan_to_num"):
        EXPORTED[method](net, bad, **opts)
    with pytest.raises(ValueError, match=r"single sample.*x\[None\]"):
        EXPORTED[method](net, x[0], **opts)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        EXPORTED[method](net, x, batch_size=0, **opts)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'stepz'.*accepts"):
        EXPORTED[method](net, x, stepz=3)


@pytest.fixture(scope="module")
def signals():
    from mnist1d.data import get_dataset_args, make_dataset
    args = get_dataset_args()
    args.num_samples = 40
    return make_dataset(args)["x"][:3, :, None].astype(np.float32)


@pytest.mark.parametrize("method", CAMS + GRADIENTS + ("rise", "sise"))
def test_every_method_on_the_old_h5_mnist1d_model(mnist1d_seed_model, signals, method):
    out = xai.explain(mnist1d_seed_model, signals, method=method, **FAST.get(method, {}))
    expected = (3, 40) if method in xai.MAP_METHODS else (3, 40, 1)
    assert out.shape == expected and out.dtype == np.float32 and np.isfinite(out).all()
    if method in xai.MAP_METHODS:
        assert out.min() >= 0 and np.isclose(out.max(), 1)
    else:
        assert np.abs(out).max() > 0


@pytest.mark.parametrize("method", ("gradcam", "gradcam++", "layercam", "xgradcam", "hirescam",
                                    "scorecam", "integrated_gradients", "rise",
                                    "smooth_gradcam++", "finercam", "shapleycam",
                                    "reciprocam", "opticam"))
def test_batched_equals_looped_with_per_sample_targets(method):
    net = gap_net(seed=11)
    x = np.random.default_rng(5).normal(size=(4, 12, 12, 3)).astype(np.float32)
    targets = [3, 0, 2, 1]
    opts = dict(FAST.get(method, {}))
    together = xai.explain(net, x, method=method, target=targets, batch_size=3, **opts)
    for i in range(4):
        alone = xai.explain(net, x[i:i + 1], method=method, target=targets[i], **opts)
        np.testing.assert_allclose(together[i], alone[0], rtol=2e-4, atol=2e-5)
    # the per-sample targets are really used: another target gives another map
    other = xai.explain(net, x[:1], method=method, target=1, **opts)
    assert np.abs(other[0] - together[0]).max() > 1e-3


def chelsea_x():
    img = cv2.resize(data.chelsea(), (224, 224), interpolation=cv2.INTER_AREA)
    return keras.applications.mobilenet.preprocess_input(img.astype(np.float32))[None]


@pytest.mark.parametrize("layer", ["conv1_relu", "conv_pw_6_relu", "conv_pw_13_relu", 20])
def test_first_middle_last_layers_of_mobilenet(mobilenet, layer):
    # Grad-CAM may be all zero at shallow layers (ReLU of a negative sum); Layer-CAM is not
    m = xai.explain(mobilenet, chelsea_x(), method="layercam", layer=layer)
    assert m.shape == (1, 224, 224) and np.isclose(m.max(), 1)
    raw = xai.explain(mobilenet, chelsea_x(), layer=layer, upsample=False, normalize=False)
    name = layer if isinstance(layer, str) else mobilenet.layers[layer].name
    assert raw.shape[1:] == tuple(mobilenet.get_layer(name).output.shape[1:3])


def test_default_layer_is_the_last_spatial_map(mobilenet):
    path = xai.layers.resolve_layer(mobilenet)
    assert path[-1].name == "conv_pw_13_relu"
    assert xai.layers.resolve_layer(gap_net())[-1].name == "conv_b"


@pytest.mark.parametrize("wrapper", ["sequential", "functional"])
def test_nested_application_base_inside_a_classifier(mobilenet, wrapper):
    base = keras.Model(mobilenet.inputs, mobilenet.get_layer("conv_pw_13_relu").output,
                       name="mobilenet_base")
    head = keras.layers.Dense(5, activation="softmax", name="head")
    if wrapper == "sequential":
        clf = keras.Sequential([keras.Input((224, 224, 3)), base,
                                keras.layers.GlobalAveragePooling2D(), head])
    else:
        inp = keras.Input((224, 224, 3))
        clf = keras.Model(inp, head(keras.layers.GlobalAveragePooling2D()(base(inp))))
    base.trainable = False  # a frozen base, as in transfer learning: gradients must still flow
    x = chelsea_x()
    assert xai.layers.resolve_layer(clf)[-1].name == "conv_pw_13_relu"
    for layer in ("conv_pw_13_relu", "conv_pw_11_relu"):
        got = xai.explain(clf, x, layer=layer, target=3, normalize=False, upsample=False)
        # reference: a plain tape through the same layers, outside xai
        A = keras.Model(mobilenet.inputs, mobilenet.get_layer(layer).output)(x)
        rest = (lambda a: a) if layer == "conv_pw_13_relu" else keras.Model(
            mobilenet.get_layer(layer).output, mobilenet.get_layer("conv_pw_13_relu").output)
        with tf.GradientTape() as tape:
            tape.watch(A)
            h = keras.layers.GlobalAveragePooling2D()(rest(A))
            s = (tf.matmul(h, head.kernel) + head.bias)[:, 3]
        G = tape.gradient(s, A).numpy()
        ref = np.maximum((G.mean((1, 2), keepdims=True) * A.numpy()).sum(-1), 0)
        np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-5)
    assert xai.explain(clf, x, method="guided_backprop").shape == x.shape


def test_no_retracing_on_second_call_with_same_shapes():
    net = gap_net(seed=12)
    x = np.random.default_rng(6).normal(size=(3, 12, 12, 3)).astype(np.float32)
    calls = [("gradcam", {}), ("gradcam++", {}), ("integrated_gradients", {"steps": 8}),
             ("rise", {"n_masks": 32, "seed": 0}), ("scorecam", {})]
    for method, opts in calls:  # the first call runs eagerly, the second compiles
        first = xai.explain(net, x, method=method, **opts)
        np.testing.assert_allclose(xai.explain(net, x, method=method, **opts), first,
                                   rtol=1e-5, atol=1e-6)
    traced = xai.probe.trace_count(net)
    assert traced >= len(calls)
    for method, opts in calls:
        xai.explain(net, x + 1, method=method, target=2, **opts)
    assert xai.probe.trace_count(net) == traced


def test_probability_score_differs_from_logit():
    net = gap_net(seed=13)
    x = np.random.default_rng(7).normal(size=(2, 12, 12, 3)).astype(np.float32)
    A, G, z = acts_and_grads(net, "conv_b", x, np.array([1, 1]))
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    # d p_c / dA = p_c (G_c − Σ_j p_j G_j): compute via the chain rule from per-class logits grads
    grads = np.stack([acts_and_grads(net, "conv_b", x, np.array([j, j]))[1] for j in range(4)])
    dp = p[:, 1, None, None, None] * (grads[1] - np.einsum("nj,jnhwk->nhwk", p, grads))
    ref = np.maximum((dp.mean((1, 2), keepdims=True) * A).sum(-1), 0)
    got = xai.explain(net, x, target=1, score="probability", normalize=False, upsample=False)
    np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-7)


# ------------------------------------------------------------------ errors that name the fix
@pytest.fixture(scope="module")
def net():
    return gap_net(seed=14)


@pytest.fixture
def x():
    return np.random.default_rng(8).normal(size=(2, 12, 12, 3)).astype(np.float32)


def test_unknown_layer_lists_spatial_layers(net, x):
    with pytest.raises(ValueError, match=r"No layer named 'conv_z'.*'conv_a', 'conv_b'"):
        xai.explain(net, x, layer="conv_z")


def test_non_spatial_layer(net, x):
    with pytest.raises(ValueError, match=r"'gap'.*not a spatial feature map.*'conv_b'"):
        xai.explain(net, x, layer="gap")


def test_wrong_rank_and_channels(net, x):
    with pytest.raises(ValueError, match=r"single sample.*x\[None\]"):
        xai.explain(net, x[0])
    with pytest.raises(ValueError, match="rank"):
        xai.explain(net, x[..., 0])
    with pytest.raises(ValueError, match=r"1 channels.*expects 3.*np.repeat"):
        xai.explain(net, x[..., :1])
    with pytest.raises(ValueError, match=r"spatial size.*Resize"):
        xai.explain(net, np.zeros((1, 10, 12, 3), np.float32))


def test_target_out_of_range_and_wrong_count(net, x):
    with pytest.raises(ValueError, match=r"outside \[0, 4\)"):
        xai.explain(net, x, target=4)
    with pytest.raises(ValueError, match="one class per sample"):
        xai.explain(net, x, target=[0, 1, 2])
    with pytest.raises(ValueError, match="1000-class ImageNet"):
        xai.explain(net, x, target="tabby")


def test_nan_and_inf_inputs(net, x):
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    bad[1, 1, 1, 1] = np.inf
    with pytest.raises(ValueError, match=r"2 NaN or inf.*nan_to_num"):
        xai.explain(net, bad)


def test_unknown_method_and_option(net, x):
    with pytest.raises(ValueError, match=r"Unknown method 'gradcam\+'.*gradcam\+\+.*rise"):
        xai.explain(net, x, method="gradcam+")
    with pytest.raises(TypeError, match=r"no option\(s\) \['stepz'\].*steps"):
        xai.explain(net, x, method="integrated_gradients", stepz=3)
    with pytest.raises(ValueError, match="takes no layer"):
        xai.explain(net, x, method="saliency", layer="conv_b")
    with pytest.raises(ValueError, match="score must be one of"):
        xai.explain(net, x, score="softmax")


def test_model_without_conv_layers():
    keras.utils.set_random_seed(0)
    mlp = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu"),
                            keras.layers.Dense(3, activation="softmax")])
    xs = np.ones((2, 8), np.float32)
    with pytest.raises(ValueError, match=r"no spatial .* method='saliency'"):
        xai.explain(mlp, xs)
    assert xai.explain(mlp, xs, method="saliency").shape == (2, 8)


def test_bad_batch_size_and_ig_steps(net, x):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        xai.explain(net, x, batch_size=0)
    with pytest.raises(ValueError, match="steps must be an integer"):
        xai.explain(net, x, method="integrated_gradients", steps=1)
    with pytest.raises(ValueError, match="baseline has shape"):
        xai.explain(net, x, method="integrated_gradients", baseline=np.zeros((5, 5)))
