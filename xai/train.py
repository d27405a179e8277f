"""Training recipes for the project's own small models.

* :func:`mnist1d_cnn` / :func:`train_mnist1d` -- the original study's 1-D CNN for MNIST-1D.
* :func:`hmt_vgg7` / :func:`train_hmt` -- the original study's "VGG-7" for the Kather 2016 tiles.
* :func:`xray_cnn` / :func:`train_xray` -- a pneumonia-vs-normal CNN for Kermany chest X-rays.

Every recipe seeds Python, NumPy and TensorFlow through ``keras.utils.set_random_seed`` and shows
Keras progress bars unless ``verbose=0``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["mnist1d_cnn", "train_mnist1d", "hmt_vgg7", "train_hmt", "xray_cnn", "train_xray",
           "evaluate_accuracy"]


def _fit(model, batches, n: int, batch_size: int, epochs: int, learning_rate: float, *,
         cosine: bool, loss: str, validation_data=None, verbose=0):
    """The shared end of every recipe: Adam (with a cosine decay over all steps when
    ``cosine``), ``loss`` and accuracy, then ``epochs`` passes over the ``batches`` generator."""
    import keras

    steps_per_epoch = int(np.ceil(n / batch_size))
    rate = (keras.optimizers.schedules.CosineDecay(learning_rate, epochs * steps_per_epoch)
            if cosine else learning_rate)
    model.compile(optimizer=keras.optimizers.Adam(rate), loss=loss, metrics=["accuracy"])
    model.fit(batches, epochs=epochs, steps_per_epoch=steps_per_epoch,
              validation_data=validation_data, shuffle=False, verbose=verbose)


def _saved(model, save_to):
    """``model``, saved first to ``save_to`` (its folders created) unless that is None."""
    if save_to is not None:
        Path(save_to).parent.mkdir(parents=True, exist_ok=True)
        model.save(save_to)
    return model


def mnist1d_cnn(length=40, num_classes=10):
    """The original study's MNIST-1D CNN.

    Input (length, 1) -> Conv1D 25@5 same relu -> Conv1D 25@3 same relu -> Conv1D 25@3 same relu
    -> Flatten -> Dense ``num_classes`` softmax (13,960 parameters for the defaults). Layer names
    match the study's saved model (``conv1d``, ``conv1d_1``, ``conv1d_2``, ``flatten``, ``dense``),
    so the same layer names work for both.
    """
    import keras
    from keras import layers

    inputs = keras.Input((length, 1), name="signal")
    h = layers.Conv1D(25, 5, padding="same", activation="relu", name="conv1d")(inputs)
    h = layers.Conv1D(25, 3, padding="same", activation="relu", name="conv1d_1")(h)
    h = layers.Conv1D(25, 3, padding="same", activation="relu", name="conv1d_2")(h)
    h = layers.Flatten(name="flatten")(h)
    outputs = layers.Dense(num_classes, activation="softmax", name="dense")(h)
    return keras.Model(inputs, outputs, name="mnist1d_cnn")


def _shift_signals(x, max_shift, rng):
    """Translate each (T, C) signal by a random integer in [-max_shift, max_shift], edge-padded."""
    n, t = x.shape[:2]
    shifts = rng.integers(-max_shift, max_shift + 1, size=n)
    idx = np.clip(np.arange(t)[None, :] - shifts[:, None], 0, t - 1)
    return np.take_along_axis(x, idx[..., None], axis=1)


def _shuffled_batches(n, batch_size, rng):
    """Index batches of a fresh permutation of range(n) every epoch, forever."""
    while True:
        order = rng.permutation(n)
        for i in range(0, n, batch_size):
            yield order[i:i + batch_size]


def evaluate_accuracy(model, x, y, batch_size=256):
    """Top-1 accuracy of ``model`` on (x, y)."""
    p = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(p, axis=-1) == np.asarray(y)))


def train_mnist1d(
    data=None,
    epochs=60,
    seed=0,
    verbose=1,
    batch_size=64,
    learning_rate=3e-3,
    max_shift=3,
    noise=0.1,
    save_to=None,
):
    """Train :func:`mnist1d_cnn` on MNIST-1D with the project's recipe.

    Adam with a cosine-decayed learning rate (``learning_rate`` -> 0 over ``epochs``), batch 64,
    light augmentation each epoch: a random translation of up to ``max_shift`` samples (edge
    padded) and Gaussian noise of std ``noise`` (the signals have unit std). No model selection
    on the test split: the model after the last epoch is returned.

    Parameters
    ----------
    data : dict, optional
        As returned by :func:`xai.data.mnist1d` (loaded when None).
    epochs, batch_size, learning_rate : training schedule.
    seed : int
        Seeds Python, NumPy and TensorFlow (``keras.utils.set_random_seed``) and the augmentation.
    verbose : int
        Keras ``fit`` verbosity: 0 silent, 1 progress bar, 2 one line per epoch.
    max_shift, noise : augmentation strength (0 disables each).
    save_to : str or Path, optional
        Save the trained model there (``.keras``).

    Returns
    -------
    keras.Model
        The trained model; ``model.history.history`` holds the loss/accuracy per epoch. Use
        :func:`evaluate_accuracy` for the test accuracy (printed when ``verbose``).
    """
    import keras

    if data is None:
        from .data import mnist1d

        data = mnist1d()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x, y = np.asarray(data["x_train"], np.float32), np.asarray(data["y_train"])
    if x.ndim == 2:
        x = x[..., None]

    model = mnist1d_cnn(length=x.shape[1], num_classes=int(y.max()) + 1)

    def batches():
        while True:  # a fresh augmented, shuffled copy of the training set every epoch
            order = rng.permutation(len(x))
            xa = x[order]
            if max_shift:
                xa = _shift_signals(xa, max_shift, rng)
            if noise:
                xa = xa + rng.normal(0.0, noise, xa.shape).astype(np.float32)
            for i in range(0, len(xa), batch_size):
                yield xa[i : i + batch_size], y[order[i : i + batch_size]]

    _fit(model, batches(), len(x), batch_size, epochs, learning_rate, cosine=True,
         loss="sparse_categorical_crossentropy", verbose=verbose)
    if verbose and "x_test" in data:
        xt = np.asarray(data["x_test"], np.float32)
        acc = evaluate_accuracy(model, xt if xt.ndim == 3 else xt[..., None], data["y_test"])
        print(f"MNIST-1D test accuracy: {acc:.4f}")
    return _saved(model, save_to)


def hmt_vgg7(num_classes=8, size=224):
    """The original study's "VGG-7" for the Kather 2016 tiles.

    Input (size, size, 3) in [0, 1] -> Conv2D 32, 32 (3x3 same relu) -> MaxPool -> Conv2D 64, 64
    -> MaxPool -> GlobalAveragePooling2D -> Dense ``num_classes`` softmax (66,088 parameters).
    Layer names match the study's saved model (``conv2d`` ... ``conv2d_3``, ``dense``).
    """
    import keras
    from keras import layers

    def conv(filters, name):
        return layers.Conv2D(filters, 3, padding="same", activation="relu", name=name)

    inputs = keras.Input((size, size, 3), name="image")
    h = conv(32, "conv2d")(inputs)
    h = conv(32, "conv2d_1")(h)
    h = layers.MaxPooling2D(name="max_pooling2d")(h)
    h = conv(64, "conv2d_2")(h)
    h = conv(64, "conv2d_3")(h)
    h = layers.MaxPooling2D(name="max_pooling2d_1")(h)
    h = layers.GlobalAveragePooling2D(name="global_average_pooling2d")(h)
    outputs = layers.Dense(num_classes, activation="softmax", name="dense")(h)
    return keras.Model(inputs, outputs, name="hmt_vgg7")


def train_hmt(
    x,
    y,
    epochs=30,
    seed=0,
    verbose=1,
    batch_size=32,
    learning_rate=1e-3,
    validation_data=None,
    augment=True,
    save_to=None,
):
    """Train :func:`hmt_vgg7` on Kather 2016 tiles.

    Adam with a cosine-decayed learning rate, batch 32. Histology has no preferred orientation,
    so the augmentation is the 8 symmetries of the square (random flips and 90-degree rotations),
    applied per batch.

    Parameters
    ----------
    x : np.ndarray
        float32 (N, H, W, 3) in [0, 1], e.g. from :func:`xai.data.load_kather`.
    y : np.ndarray
        int (N,) class indices.
    validation_data : (x_val, y_val), optional
        Evaluated after each epoch (for monitoring only).
    seed, verbose, save_to : as in :func:`train_mnist1d`.

    Returns
    -------
    keras.Model
        The trained model (``model.history.history`` holds the curves).
    """
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x = np.asarray(x, np.float32)
    y = np.asarray(y)
    if x.ndim != 4 or x.shape[1] != x.shape[2]:
        raise ValueError(f"train_hmt expects square images (N, H, H, 3); got shape {x.shape}")
    model = hmt_vgg7(num_classes=max(8, int(y.max()) + 1), size=x.shape[1])

    def batches():
        for idx in _shuffled_batches(len(x), batch_size, rng):
            xb = x[idx]
            if augment:
                xb = np.rot90(xb, k=int(rng.integers(4)), axes=(1, 2))
                if rng.random() < 0.5:
                    xb = xb[:, :, ::-1]
                xb = np.ascontiguousarray(xb)
            yield xb, y[idx]

    _fit(model, batches(), len(x), batch_size, epochs, learning_rate, cosine=True,
         loss="sparse_categorical_crossentropy", validation_data=validation_data, verbose=verbose)
    return _saved(model, save_to)


def xray_cnn(size=150):
    """The published pneumonia CNN's architecture (``pneumonia_cnn_am1codes.h5``, 229,537
    parameters for size 150): five blocks Conv2D 3×3 valid ReLU (16, 32, 64, 64, 64) → MaxPool 2
    → Dropout 0.25, then Flatten → Dense 512 ReLU → Dropout 0.25 → Dense(1, sigmoid) =
    P(PNEUMONIA). Input (size, size, 3) RGB in [0, 1]. Layer names match the saved model, whose
    last conv layer, the CAM layer, is ``conv2d_4``."""
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 3), name="xray")
    h = inputs
    for i, filters in enumerate((16, 32, 64, 64, 64)):
        suffix = f"_{i}" if i else ""
        h = layers.Conv2D(filters, 3, activation="relu", name=f"conv2d{suffix}")(h)
        h = layers.MaxPooling2D(name=f"max_pooling2d{suffix}")(h)
        h = layers.Dropout(0.25, name=f"dropout{suffix}")(h)
    h = layers.Flatten(name="flatten")(h)
    h = layers.Dense(512, activation="relu", name="dense")(h)
    h = layers.Dropout(0.25, name="dropout_5")(h)
    outputs = layers.Dense(1, activation="sigmoid", name="dense_1")(h)
    return keras.Model(inputs, outputs, name="xray_cnn")


def train_xray(
    data,
    epochs=10,
    seed=0,
    verbose=1,
    batch_size=32,
    learning_rate=1e-3,
    balanced=True,
    augment=True,
    validation_data=None,
    save_to=None,
):
    """Train :func:`xray_cnn` from scratch on chest X-rays in the Kermany layout.

    Adam, binary cross-entropy, batch 32. ``balanced=True`` weights each class by
    N / (2 · N_class): the Kermany training split has about three pneumonia images per normal
    one, and an unweighted model learns to over-call pneumonia (as the published model does).
    ``augment=True`` shifts each batch by up to 10 % of the image (edge-padded); no flips, since
    a chest is not left-right symmetric.

    Parameters
    ----------
    data : str, Path or (x, y)
        A folder with ``NORMAL/`` and ``PNEUMONIA/`` (e.g. ``chest_xray/train``, read with
        :func:`xai.data.load_xray` at 150 × 150), or arrays: x float32 (N, H, H, 3) in [0, 1],
        y (N,) in {0, 1}.
    validation_data : (x_val, y_val), optional
        Evaluated after each epoch (monitoring only).
    seed, verbose, save_to : as in :func:`train_mnist1d`.

    Returns
    -------
    keras.Model (``model.history.history`` holds the curves).
    """
    import keras

    from .data import load_xray

    x, y = (load_xray(data)[:2] if isinstance(data, (str, Path)) else data)
    x, y = np.asarray(x, np.float32), np.asarray(y)
    if x.ndim != 4 or x.shape[1] != x.shape[2] or x.shape[-1] != 3:
        raise ValueError(f"train_xray expects square RGB images (N, H, H, 3); got {x.shape}")
    if not set(np.unique(y)) <= {0, 1}:
        raise ValueError(f"train_xray expects labels 0 (NORMAL) and 1 (PNEUMONIA); got "
                         f"{sorted(set(np.unique(y).tolist()))}")
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = xray_cnn(size=x.shape[1])
    counts = np.bincount(y.astype(int), minlength=2)
    # per-sample weights (Keras takes no class_weight with a generator)
    weight = len(y) / (2.0 * np.maximum(counts, 1)) if balanced else np.ones(2)
    shift = int(round(0.1 * x.shape[1]))

    def batches():
        for idx in _shuffled_batches(len(x), batch_size, rng):
            xb = x[idx]
            if augment and shift:
                dy, dx = rng.integers(-shift, shift + 1, size=2)
                rows = np.clip(np.arange(x.shape[1]) - dy, 0, x.shape[1] - 1)
                cols = np.clip(np.arange(x.shape[2]) - dx, 0, x.shape[2] - 1)
                xb = xb[:, rows][:, :, cols]
            yb = y[idx].astype(int)
            yield xb, yb.astype(np.float32), weight[yb].astype(np.float32)

    _fit(model, batches(), len(x), batch_size, epochs, learning_rate, cosine=False,
         loss="binary_crossentropy", validation_data=validation_data, verbose=verbose)
    return _saved(model, save_to)
