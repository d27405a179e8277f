"""xai.layers and xai.probe: which layer is explained, the probe that re-runs the user's model
(shared weights, float32 whatever the dtype policy, the binary convention) and guided
backpropagation on it."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import xai
from xai import layers
from xai import probe as probes

from helpers import gap_net


def chain(*hidden, inp=(8, 8, 2), seed=0, name=None):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(inp), *hidden], name=name)


def conv(k=4, name=None, act="relu"):
    return keras.layers.Conv2D(k, 3, padding="same", activation=act, name=name)


# ------------------------------------------------------------------ which layer
def test_auto_layer_skips_trailing_pooling_and_dropout():
    model = chain(conv(name="c1"), keras.layers.MaxPooling2D(), conv(name="c2"),
                  keras.layers.MaxPooling2D(name="pool"), keras.layers.Dropout(0.5),
                  keras.layers.Flatten(), keras.layers.Dense(3))
    assert layers.resolve_layer(model)[-1].name == "c2"
    assert layers.spatial_layer_names(model) == ["c1", model.layers[1].name, "c2", "pool",
                                                 model.layers[4].name]


def test_auto_layer_stops_at_global_pooling_and_ignores_1x1_maps():
    model = chain(conv(name="c1"), keras.layers.Conv2D(3, 8, name="to_1x1"),
                  keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3))
    assert layers.resolve_layer(model)[-1].name == "c1"


def test_layer_by_name_index_and_object_inside_a_nested_model():
    inner = chain(conv(name="inner_conv"), keras.layers.GlobalAveragePooling2D(), name="inner")
    outer = keras.Sequential([keras.Input((8, 8, 2)), keras.layers.Rescaling(0.5), inner,
                              keras.layers.Dense(3)])
    by_name = layers.resolve_layer(outer, "inner_conv")
    assert [p.name for p in by_name] == ["inner", "inner_conv"]
    assert layers.resolve_layer(outer, inner.layers[0]) == by_name
    assert layers.resolve_layer(outer) == by_name  # auto descends into the nested model
    with pytest.raises(ValueError, match="not a spatial feature map"):
        layers.resolve_layer(outer, -1)
    with pytest.raises(TypeError, match="layer must be a name, an index"):
        layers.resolve_layer(outer, 2.5)


def test_layer_index_may_be_a_numpy_integer_but_never_a_bool():
    """Like target, layer accepts NumPy integers; a bool is refused, also after layer=1 was
    cached (True == 1 as a dictionary key)."""
    net = gap_net(seed=1)
    x = np.random.default_rng(0).normal(size=(2, 12, 12, 3)).astype(np.float32)
    assert layers.resolve_layer(net, np.int64(1))[-1].name == "conv_a"
    np.testing.assert_allclose(xai.explain(net, x, layer=np.int32(-3)),
                               xai.explain(net, x, layer="conv_b"))
    for flag in (True, False):
        with pytest.raises(TypeError, match="not a bool"):
            xai.explain(net, x, layer=flag)


def token_net(seed=0):
    """conv → Reshape to 256 tokens → self-attention → pooling: maps of another rank."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((16, 16, 3))
    t = keras.layers.Reshape((256, 8), name="tokens")(conv(8, name="conv")(inp))
    t = keras.layers.MultiHeadAttention(2, 4, name="attention")(t, t)
    t = keras.layers.GlobalAveragePooling1D()(t)
    return keras.Model(inp, keras.layers.Dense(4, activation="softmax")(t))


def test_maps_of_another_rank_than_the_input_are_not_cam_layers():
    """Tokens (N, 256, 8) made from an image's (N, 16, 16, 8) map: the automatic choice skips
    them (it took them, and Grad-CAM returned one (16, 16) map mixing a batch of 3; Score-CAM
    and SISE failed in Keras), an explicit choice is refused with the layers that work."""
    net = token_net()
    x = np.random.default_rng(0).random((3, 16, 16, 3)).astype(np.float32)
    assert layers.resolve_layer(net)[-1].name == "conv"
    assert layers.spatial_layer_names(net) == ["conv"]
    for method in ("gradcam", "scorecam", "sise"):
        maps = xai.explain(net, x, method=method)
        assert maps.shape == (3, 16, 16)
        for i in range(3):  # each sample's map is its own
            np.testing.assert_allclose(maps[i], xai.explain(net, x[i:i + 1], method=method)[0],
                                       rtol=1e-4, atol=1e-6)
    for layer in ("tokens", "attention"):
        with pytest.raises(ValueError, match="positions are not those of the input.*'conv'"):
            xai.explain(net, x, method="gradcam", layer=layer)
    with pytest.raises(ValueError, match="positions are not those of the input"):
        xai.sise(net, x, layers=["conv", "tokens"])


def test_probe_activations_are_the_layers_output_and_z_the_logits():
    net = gap_net(seed=1)
    x = np.random.default_rng(0).normal(size=(2, 12, 12, 3)).astype(np.float32)
    probe = probes.build_probe(net, layers.resolve_layer(net, "conv_a"))
    A, z = probe.model(x)
    np.testing.assert_allclose(A, keras.Model(net.inputs, net.get_layer("conv_a").output)(x),
                               rtol=1e-6)
    np.testing.assert_allclose(tf.nn.softmax(z), net(x), rtol=1e-5, atol=1e-7)
    assert probe.final_activation == "softmax" and not probe.binary


def test_probe_follows_the_models_weights():
    """The probe runs the model's own variables: set_weights / fit show up in every method."""
    net = gap_net(seed=2)
    x = np.random.default_rng(1).normal(size=(2, 12, 12, 3)).astype(np.float32)
    first = xai.gradcam_like = xai.explain(net, x, method="gradcam", target=1, normalize=False)
    other = gap_net(seed=3)
    net.set_weights(other.get_weights())
    np.testing.assert_allclose(xai.explain(net, x, method="gradcam", target=1, normalize=False),
                               xai.explain(other, x, method="gradcam", target=1,
                                           normalize=False), rtol=1e-5, atol=1e-6)
    assert not np.allclose(first, xai.explain(net, x, method="gradcam", target=1,
                                              normalize=False))


def head_net(seed, kind):
    """conv → GAP → a softmax head that is not a plain Dense: an EinsumDense, a LoRA Dense."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((8, 8, 2))
    h = keras.layers.GlobalAveragePooling2D()(conv(name="c1")(inp))
    if kind == "einsum":
        head = keras.layers.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c",
                                        activation="softmax", name="head")
        return keras.Model(inp, head(h))
    head = keras.layers.Dense(3, activation="softmax", name="head")
    model = keras.Model(inp, head(h))
    head.enable_lora(2)
    head.lora_kernel_b.assign(np.random.default_rng(seed).normal(size=(2, 3)))
    return model


@pytest.mark.parametrize("kind", ["einsum", "lora"])
def test_a_head_that_is_not_a_plain_dense_follows_the_models_weights(kind):
    """The head's pre-activation runs on the head's own variables (it used to be a copy, stale
    after set_weights / fit until clear_cache)."""
    net = head_net(30, kind)
    x = np.random.default_rng(20).normal(size=(3, 8, 8, 2)).astype(np.float32)
    before = xai.explain(net, x, target=1, normalize=False)
    other = head_net(31, kind)
    net.set_weights(other.get_weights())
    head = net.get_layer("head")
    features = keras.Model(net.inputs, head.input)(x).numpy()
    logits = features @ keras.ops.convert_to_numpy(head.kernel) + head.bias.numpy()
    np.testing.assert_allclose(xai.scores.class_scores(net, x), logits, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xai.scores.class_scores(net, x, "probability"),
                               net.predict(x, verbose=0), rtol=1e-5, atol=1e-7)
    after = xai.explain(net, x, target=1, normalize=False)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, xai.explain(other, x, target=1, normalize=False),
                               rtol=1e-5, atol=1e-6)


@keras.saving.register_keras_serializable("xai_tests")
class WrappedHead(keras.layers.Layer):
    """A head whose weights live in a sub-layer: it cannot be rebuilt on the same variables."""

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = units, keras.activations.get(activation)
        self.dense = keras.layers.Dense(units)

    def call(self, h):
        return self.activation(self.dense(h))

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation)}


def test_a_head_that_cannot_share_its_weights_is_refused_with_the_fix():
    keras.utils.set_random_seed(22)
    inp = keras.Input((8, 8, 2))
    out = WrappedHead(3, "softmax", name="wrapped")(
        keras.layers.GlobalAveragePooling2D()(conv(name="c1")(inp)))
    x = np.zeros((1, 8, 8, 2), np.float32)
    with pytest.raises(ValueError, match="'wrapped'.*Activation\\('softmax'\\)"):
        xai.explain(keras.Model(inp, out), x)


# ------------------------------------------------------------------ guided backpropagation
def guided_reference(model, x, target):
    """Guided backprop by hand on a chain model: a tape through the layers with each ReLU
    replaced by a custom-gradient ReLU (gradient only where input > 0 and gradient > 0)."""
    @tf.custom_gradient
    def guided_relu(h):
        return tf.nn.relu(h), lambda dy: dy * tf.cast((h > 0) & (dy > 0), dy.dtype)

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = x
        for layer in model.layers[:-1]:
            if getattr(layer, "activation", None) is keras.activations.relu:
                config = dict(layer.get_config(), activation="linear")
                linear = layer.__class__.from_config(config)
                linear.build(h.shape)
                linear.set_weights(layer.get_weights())
                h = guided_relu(linear(h))
            else:
                h = layer(h)
        head = model.layers[-1]
        s = tf.reduce_sum((tf.matmul(h, head.kernel) + head.bias)[:, target])
    return tape.gradient(s, x).numpy()


def guided_chain(seed):
    return chain(conv(name="c1"), keras.layers.MaxPooling2D(), conv(name="c2"),
                 keras.layers.Flatten(), keras.layers.Dense(6, activation="relu"),
                 keras.layers.Dense(3, activation="softmax"), seed=seed)


def test_guided_backprop_matches_a_hand_built_guided_network():
    model = guided_chain(seed=4)
    x = np.random.default_rng(2).normal(size=(3, 8, 8, 2)).astype(np.float32)
    np.testing.assert_allclose(xai.guided_backprop(model, x, target=2),
                               guided_reference(model, x, 2), rtol=1e-4, atol=1e-6)


def test_guided_backprop_is_not_stale_after_set_weights():
    model = guided_chain(seed=5)
    x = np.random.default_rng(3).normal(size=(2, 8, 8, 2)).astype(np.float32)
    before = xai.guided_backprop(model, x, target=1)
    model.set_weights(guided_chain(seed=6).get_weights())
    after = xai.guided_backprop(model, x, target=1)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, guided_reference(model, x, 1), rtol=1e-4, atol=1e-6)
    # and guided Grad-CAM combines the new guided gradients with the new Grad-CAM
    np.testing.assert_allclose(xai.guided_gradcam(model, x, target=1),
                               after * xai.weighted_cam(model, x, target=1)[..., None],
                               rtol=1e-5, atol=1e-7)


def test_guided_backprop_through_a_relu_layer_called_twice():
    """One ReLU layer used at two places is gated at both (it used to fail with 'The name
    "act_guided" is used 2 times'); checked against guided ReLUs applied by hand."""
    @tf.custom_gradient
    def guided_relu(h):
        return tf.nn.relu(h), lambda dy: dy * tf.cast((h > 0) & (dy > 0), dy.dtype)

    keras.utils.set_random_seed(12)
    conv_a, conv_b = (keras.layers.Conv2D(4, 3, padding="same") for _ in range(2))
    act, pool, dense = keras.layers.ReLU(name="act"), keras.layers.Flatten(), keras.layers.Dense(3)
    inp = keras.Input((8, 8, 2))
    model = keras.Model(inp, dense(pool(act(conv_b(act(conv_a(inp)))))))
    x = tf.constant(np.random.default_rng(12).normal(size=(2, 8, 8, 2)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        s = tf.reduce_sum(dense(pool(guided_relu(conv_b(guided_relu(conv_a(x))))))[:, 1])
    expected = tape.gradient(s, x).numpy()
    got = xai.guided_backprop(model, x.numpy(), target=1)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert not np.allclose(got, xai.saliency(model, x.numpy(), target=1))


def test_a_dense_layer_called_twice_is_run_twice_on_its_own_weights():
    keras.utils.set_random_seed(13)
    shared = keras.layers.Dense(6, activation="tanh", name="shared")
    inp = keras.Input((8, 8, 2))
    h = keras.layers.Flatten()(keras.layers.Conv2D(3, 3, activation="relu")(inp))
    h = shared(shared(keras.layers.Dense(6)(h)))
    model = keras.Model(inp, keras.layers.Dense(3)(h))
    x = tf.constant(np.random.default_rng(13).normal(size=(2, 8, 8, 2)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        s = tf.reduce_sum(model(x)[:, 2])
    np.testing.assert_allclose(xai.saliency(model, x.numpy(), target=2), tape.gradient(s, x),
                               rtol=1e-4, atol=1e-6)


@keras.saving.register_keras_serializable("xai_tests")
class Doubler(keras.layers.Layer):
    """A custom layer with a required constructor argument (cannot be rebuilt from a config)."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, h):
        return h * self.factor


def test_guided_backprop_with_lambda_and_custom_layers():
    keras.utils.set_random_seed(7)
    inp = keras.Input((8, 8, 2))
    h = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    h = conv(name="c1")(h)
    h = Doubler(0.5)(h)
    h = keras.layers.ReLU()(keras.layers.Conv2D(3, 3)(h))
    out = keras.layers.Dense(3)(keras.layers.Flatten()(h))
    model = keras.Model(inp, out)
    x = np.random.default_rng(4).normal(size=(2, 8, 8, 2)).astype(np.float32)
    got = xai.guided_backprop(model, x, target=0)
    assert got.shape == x.shape and np.isfinite(got).all() and np.abs(got).max() > 0
    # guided ≠ plain gradient, and guided drops gradient that the plain gradient has
    assert not np.allclose(got, xai.saliency(model, x, target=0))


# ------------------------------------------------------------------ mixed precision
@pytest.fixture
def mixed_policy():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def mixed_net(seed):
    """The Keras recipe: float16 compute, a final float32 softmax."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((12, 12, 3))
    h = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_a")(inp)
    h = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="conv_b")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = keras.layers.Dense(4, name="head")(h)
    return keras.Model(inp, keras.layers.Activation("softmax", dtype="float32")(h))


OPTIONS = {"smooth_gradcam++": {"n": 4, "seed": 0}, "smoothgrad": {"n": 4, "seed": 0},
           "integrated_gradients": {"steps": 8}, "rise": {"n_masks": 64, "seed": 0},
           "opticam": {"iterations": 5}}


@pytest.mark.parametrize("method", list(xai.METHODS))
def test_every_method_under_mixed_precision(mixed_policy, method):
    net = mixed_net(seed=8)
    x = np.random.default_rng(5).normal(size=(2, 12, 12, 3)).astype(np.float32)
    got = xai.explain(net, x, method=method, **OPTIONS.get(method, {}))
    assert got.dtype == np.float32 and np.isfinite(got).all() and np.abs(got).max() > 0
    # the same weights in float32 give (nearly) the same explanation
    keras.mixed_precision.set_global_policy("float32")
    reference = mixed_net(seed=8)
    reference.set_weights([w.astype(np.float32) for w in net.get_weights()])
    expected = xai.explain(reference, x, method=method, **OPTIONS.get(method, {}))
    assert np.corrcoef(got.ravel(), expected.ravel())[0, 1] > 0.97


def test_mixed_precision_model_explained_after_the_policy_is_reset(mixed_policy):
    net = mixed_net(seed=9)
    keras.mixed_precision.set_global_policy("float32")
    x = np.random.default_rng(6).normal(size=(2, 12, 12, 3)).astype(np.float32)
    for method in ("gradcam", "gradcam++", "layercam", "scorecam", "sise", "rise"):
        got = xai.explain(net, x, method=method, **OPTIONS.get(method, {}))
        assert got.dtype == np.float32 and np.isfinite(got).all() and got.max() == 1


# ------------------------------------------------------------------ single-unit (binary) heads
def binary_net(seed, activation="sigmoid"):
    keras.utils.set_random_seed(seed)
    return chain(conv(name="c1"), conv(name="c2"), keras.layers.GlobalAveragePooling2D(),
                 keras.layers.Dense(1, activation=activation, name="unit"), seed=seed)


def test_binary_convention_class_1_is_the_logit_class_0_its_negation():
    net = binary_net(seed=10)
    x = np.random.default_rng(7).normal(size=(16, 8, 8, 2)).astype(np.float32)
    p = net.predict(x, verbose=0)[:, 0]
    unit = net.get_layer("unit")  # centre the bias so that both classes occur
    unit.bias.assign(unit.bias - np.median(np.log(p / (1 - p))) + 1e-3)
    p = net.predict(x, verbose=0)[:, 0]
    assert (p > 0.5).any() and (p < 0.5).any()
    np.testing.assert_allclose(xai.scores.class_scores(net, x, "probability"),
                               np.stack([1 - p, p], 1), rtol=1e-5, atol=1e-6)
    logit = np.log(p / (1 - p))
    np.testing.assert_allclose(xai.scores.class_scores(net, x), np.stack([-logit, logit], 1),
                               rtol=1e-3, atol=1e-4)
    one = xai.saliency(net, x, target=1)
    np.testing.assert_allclose(xai.saliency(net, x, target=0), -one, rtol=1e-6)
    # top-1 is class 1 exactly where p > 0.5
    top = xai.saliency(net, x)
    np.testing.assert_allclose(top, np.where((p > 0.5)[:, None, None, None], one, -one),
                               rtol=1e-6)
    # class 0's Grad-CAM is the map of −logit: ReLU of the negated weighted sum
    g1 = xai.weighted_cam(net, x, target=1, normalize=False, upsample=False)
    g0 = xai.weighted_cam(net, x, target=0, normalize=False, upsample=False)
    assert not ((g1 > 0) & (g0 > 0)).any()
    with pytest.raises(ValueError, match=r"target 2 is outside \[0, 2\)"):
        xai.saliency(net, x, target=2)


def test_binary_probability_score_is_the_class_probability():
    net = binary_net(seed=11)
    x = np.random.default_rng(8).normal(size=(4, 8, 8, 2)).astype(np.float32)
    p = net.predict(x, verbose=0)[:, 0]
    dz = xai.saliency(net, x, target=1)
    np.testing.assert_allclose(xai.saliency(net, x, target=0, score="probability"),
                               -(p * (1 - p))[:, None, None, None] * dz, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("activation", [None, "softmax"])
def test_probability_of_a_single_unit_without_sigmoid_is_rejected(activation):
    net = binary_net(seed=12, activation=activation)
    x = np.random.default_rng(9).normal(size=(2, 8, 8, 2)).astype(np.float32)
    for call in (lambda: xai.rise(net, x, n_masks=8),
                 lambda: xai.sise(net, x),
                 lambda: xai.explain(net, x, method="gradcam", score="probability"),
                 lambda: xai.metrics.drop_increase(net, x, np.ones((2, 8, 8), np.float32),
                                                   score="probability")):
        with pytest.raises(ValueError, match="single unit.*Use score='logit'"):
            call()
    assert np.isfinite(xai.explain(net, x, method="gradcam")).all()  # the logit is fine


def test_a_single_linear_unit_regression_is_explained_as_y_with_target_1():
    """The documented convention for a regression output Dense(1): target=1 explains y itself,
    target=None (top-1 by sign) explains −y where y < 0."""
    net = binary_net(seed=14, activation=None)
    x = np.random.default_rng(14).normal(size=(8, 8, 8, 2)).astype(np.float32)
    unit = net.get_layer("unit")
    unit.bias.assign(unit.bias - np.median(net.predict(x, verbose=0)) + 1e-3)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = net(xt)[:, 0]
        total = tf.reduce_sum(y)
    dy = tape.gradient(total, xt).numpy()
    assert (y > 0).numpy().any() and (y < 0).numpy().any()
    np.testing.assert_allclose(xai.saliency(net, x, target=1), dy, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(xai.saliency(net, x), np.sign(y)[:, None, None, None] * dy,
                               rtol=1e-5, atol=1e-7)
