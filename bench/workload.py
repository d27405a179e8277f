"""The models and inputs the bench times: VGG16 (random weights) and MobileNet (alpha 0.25,
ImageNet weights), the layer explained in each, the linear-head copy that peers and floors get,
and the seeded random input batches."""
from __future__ import annotations

LAYERS = {"VGG16": "block5_conv3", "MobileNet": "conv_pw_13_relu"}


def build_model(name: str):
    import keras
    if name == "VGG16":
        return keras.applications.VGG16(weights=None)  # weights do not change the timing
    if name == "MobileNet":
        return keras.applications.MobileNet(alpha=0.25, weights="imagenet")
    raise ValueError(name)


def linear_copy(model):
    """A clone whose last layer's softmax is replaced by the identity (for peers and floors:
    tf-keras-vis' ReplaceToLinear does the same; xplique expects a linear output)."""
    import keras
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    clone.layers[-1].activation = keras.activations.linear
    return clone


def make_inputs(name: str, batch: int, seed: int = 0):
    import keras
    import numpy as np
    rng = np.random.default_rng(seed)
    img = rng.uniform(0, 255, (batch, 224, 224, 3)).astype("float32")
    if name == "VGG16":
        return keras.applications.vgg16.preprocess_input(img)
    return keras.applications.mobilenet.preprocess_input(img)
