"""Tests for xai.models: the zoo, preprocessing, decoding, class lookup and offline errors."""
import dataclasses
import gc
import os
import socket
from pathlib import Path

import keras
import numpy as np
import pytest

from xai import models

# Keras' own preprocess_input per architecture, written out independently of xai.models.
KERAS_PREPROCESS = {
    "vgg16": keras.applications.vgg16.preprocess_input,
    "inceptionv3": keras.applications.inception_v3.preprocess_input,
    "xception": keras.applications.xception.preprocess_input,
    "resnet50": keras.applications.resnet50.preprocess_input,
    "resnet152": keras.applications.resnet.preprocess_input,
    "densenet121": keras.applications.densenet.preprocess_input,
    "mobilenet": keras.applications.mobilenet.preprocess_input,
}
CAT_CLASSES = {"tabby", "tiger_cat", "Persian_cat", "Siamese_cat", "Egyptian_cat", "lynx"}


def test_architectures_cover_the_spec():
    assert set(KERAS_PREPROCESS) <= set(models.ARCHITECTURES)
    assert models.default_layer("vgg16") == "block5_conv3"
    assert models.default_layer("Inception_V3") == "mixed10"
    assert models.default_layer("resnet152") == "conv5_block3_out"
    with pytest.raises(ValueError, match="vgg16"):
        models.default_layer("resnet")


@pytest.fixture(scope="module", params=sorted(KERAS_PREPROCESS))
def zoo(request):
    """Each architecture built once, untrained (weights=None), at its default input size."""
    zm = models.load(request.param, weights=None)
    yield zm
    del zm
    gc.collect()


def test_default_layer_is_a_4d_feature_map(zoo):
    layer = zoo.model.get_layer(zoo.default_layer)
    assert len(layer.output.shape) == 4
    assert zoo.input_size == tuple(zoo.model.input_shape[1:3])
    assert zoo.model.output_shape == (None, 1000)
    assert zoo.decode is not None


def test_depth_layers_exist_and_shrink_with_depth(zoo):
    """first / middle / last are spatial maps of the model, at about 1/4 (Inception 1/8),
    1/8-1/16 and 1/32 of the input, and last is the default CAM layer."""
    depth = models.depth_layers(zoo.name)
    assert list(depth) == ["first", "middle", "last"] and depth["last"] == zoo.default_layer
    sizes = [zoo.model.get_layer(depth[k]).output.shape for k in depth]
    assert all(len(s) == 4 for s in sizes), sizes
    rows = [s[1] for s in sizes]
    h = zoo.input_size[0]
    assert rows[0] > rows[1] > rows[2], rows
    # Inception's stem already reaches 1/8 (35 x 35) before its first mixed block
    assert h / 9 <= rows[0] <= h / 3.5 and h / 18 <= rows[1] <= h / 7, rows


def test_preprocess_matches_keras_and_does_not_mutate(zoo, rng):
    h, w = zoo.input_size
    img = rng.integers(0, 256, size=(2, h, w, 3), dtype=np.uint8)
    expected = KERAS_PREPROCESS[zoo.name](img.astype(np.float32).copy())

    img_u8 = img.copy()
    out = zoo.preprocess(img_u8)
    np.testing.assert_array_equal(img_u8, img)
    assert out.dtype == np.float32 and out.shape == img.shape
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-5)

    img_f = img.astype(np.float32)
    out_f = zoo.preprocess(img_f)
    np.testing.assert_array_equal(img_f, img.astype(np.float32))
    assert out_f is not img_f and not np.shares_memory(out_f, img_f)
    np.testing.assert_allclose(out_f, expected, rtol=1e-6, atol=1e-5)


def test_zoo_model_is_frozen(zoo):
    with pytest.raises(dataclasses.FrozenInstanceError):
        zoo.default_layer = "other"


def _chelsea_224():
    skimage_data = pytest.importorskip("skimage.data")
    cv2 = pytest.importorskip("cv2")
    return cv2.resize(skimage_data.chelsea(), (224, 224), interpolation=cv2.INTER_AREA)


def test_mobilenet_imagenet_offline_classifies_cat(assets, mobilenet):
    zm = models.load("mobilenet", weights="imagenet", alpha=0.25)
    assert zm.default_layer == "conv_pw_13_relu" and zm.input_size == (224, 224)
    x = zm.preprocess(_chelsea_224()[None])
    probs = zm.model.predict(x, verbose=0)
    np.testing.assert_allclose(probs, mobilenet.predict(x, verbose=0), atol=1e-5)

    (top5,) = zm.decode(probs)
    assert len(top5) == 5
    assert top5[0][1] in CAT_CLASSES, top5
    for idx, name, p in top5:
        assert isinstance(idx, int) and isinstance(name, str) and isinstance(p, float)
        assert models.imagenet_class_names()[idx] == name
    assert [p for *_, p in top5] == sorted((p for *_, p in top5), reverse=True)
    # Same classes as Keras' own decoder.
    ref = keras.applications.imagenet_utils.decode_predictions(probs, top=5)[0]
    assert [r[1] for r in ref] == [name for _, name, _ in top5]


def test_weights_as_a_file_path(assets):
    path = assets / "keras_home" / "models" / "mobilenet_2_5_224_tf.h5"
    zm = models.load("mobilenet", weights=path, alpha=0.25)
    (top,) = zm.decode(zm.model.predict(zm.preprocess(_chelsea_224()[None]), verbose=0), top=1)
    assert top[0][1] in CAT_CLASSES
    with pytest.raises(FileNotFoundError):
        models.load("mobilenet", weights=path.with_name("missing.h5"), alpha=0.25)


def test_offline_missing_weights_raise_one_clear_error(monkeypatch):
    fname = "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
    if (Path(os.environ["KERAS_HOME"]) / "models" / fname).exists():
        pytest.skip("VGG16 weights are in the Keras cache; nothing to fail")

    def offline(*args, **kwargs):  # no network: fail name resolution, as offline machines do
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    with pytest.raises(models.WeightsUnavailableError) as info:
        models.load("vgg16", weights="imagenet")
    msg = str(info.value)
    assert fname in msg and "weights=" in msg and "KERAS_HOME" in msg
    assert info.value.__cause__ is not None


def test_other_errors_are_not_reported_as_missing_weights():
    with pytest.raises(ValueError, match="alpha"):
        models.load("mobilenet", weights="imagenet", alpha=0.3)
    with pytest.raises(ValueError, match="Unknown architecture"):
        models.load("resnet", weights=None)


def test_imagenet_class_lookup(assets):
    names = models.imagenet_class_names()
    assert len(names) == 1000 and names[281] == "tabby"
    assert models.imagenet_class_id("tabby") == 281
    assert models.imagenet_class_id("Egyptian cat") == 285
    assert models.imagenet_class_id("EGYPTIAN_CAT") == 285
    assert models.imagenet_class_id("n02123045") == 281  # WordNet id
    with pytest.raises(ValueError, match="egyptian cat"):
        models.imagenet_class_id("egyptian kat")
    with pytest.raises(ValueError, match="tiger cat"):
        models.imagenet_class_id("cat")
    from xai.imagenet import CAT_CLASSES, DOG_CLASSES
    assert [names[i] for i in CAT_CLASSES] == ["tabby", "tiger_cat", "Persian_cat",
                                                "Siamese_cat", "Egyptian_cat"]
    assert names[DOG_CLASSES[0]] == "Chihuahua" and names[DOG_CLASSES[-1]] == "Mexican_hairless"
    assert names[DOG_CLASSES[0] - 1] == "sea_lion" and names[DOG_CLASSES[-1] + 1] == "timber_wolf"


def test_decode_shapes_and_errors(assets, rng):
    probs = rng.dirichlet(np.ones(1000), size=3).astype(np.float32)
    decode = models.load("mobilenet", weights=None, alpha=0.25).decode
    out = decode(probs, top=3)
    assert len(out) == 3 and all(len(row) == 3 for row in out)
    assert out[1][0][0] == int(np.argmax(probs[1]))
    with pytest.raises(ValueError, match="1000"):
        decode(probs[:, :10])


def test_load_saved_model_by_path(assets):
    zm = models.load(assets / "seed_models" / "MNIST1D.h5")
    assert zm.name == "MNIST1D"
    assert zm.input_size == (40,)
    assert zm.default_layer is None and zm.decode is None
    x = np.arange(80, dtype=np.float64).reshape(2, 40, 1)
    xp = zm.preprocess(x)
    assert xp.dtype == np.float32 and not np.shares_memory(xp, x)
    np.testing.assert_array_equal(xp, x)
    assert zm.model.predict(xp, verbose=0).shape == (2, 10)

    custom = models.load(str(assets / "seed_models" / "MNIST1D.h5"), preprocess=lambda a: a / 2)
    assert custom.preprocess is not zm.preprocess
    with pytest.raises(FileNotFoundError):
        models.load(assets / "seed_models" / "nope.h5")
