"""Small models and independent references shared by the tests."""
import gzip
import hashlib
import io
import json

import keras
import numpy as np
import pandas as pd
import tensorflow as tf


def gap_net(seed=0, size=12, channels=3, classes=4, head="softmax", name="gap_net"):
    """conv → conv → GlobalAveragePooling → Dense(head): the CAM setting of Zhou et al."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((size, size, channels))
    h = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_a")(inp)
    h = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="conv_b")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    out = keras.layers.Dense(classes, activation=head, name="head")(h)
    return keras.Model(inp, out, name=name)


def conv1d_net(seed=0, length=20, classes=3):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((length, 1)),
                             keras.layers.Conv1D(4, 3, padding="same", activation="relu",
                                                 name="c1"),
                             keras.layers.Conv1D(4, 3, padding="same", activation="relu",
                                                 name="c2"),
                             keras.layers.Flatten(), keras.layers.Dense(classes,
                                                                        activation="softmax")])


def acts_and_grads(model, layer_name, x, target):
    """A, ∂logit/∂A and the logits of a *chain* model (layers applied in order), computed by a
    plain tape, with the head's softmax undone by hand — independent of xai's probe code."""
    layer = model.get_layer(layer_name)
    head = model.layers[-1]
    a = keras.Model(model.inputs, layer.output)(tf.constant(x, tf.float32))
    after = model.layers[model.layers.index(layer) + 1:-1]
    with tf.GradientTape() as tape:
        tape.watch(a)
        h = a
        for lyr in after:
            h = lyr(h)
        z = tf.matmul(h, head.kernel) + head.bias
        s = tf.gather(z, np.asarray(target), axis=1, batch_dims=1)
    return a.numpy().astype(np.float64), tape.gradient(s, a).numpy().astype(np.float64), z.numpy()


def spearman(a, b):
    ra = np.argsort(np.argsort(a.ravel()))
    rb = np.argsort(np.argsort(b.ravel()))
    return float(np.corrcoef(ra, rb)[0, 1])


def rewrite_value(path, delta=0.25, manifest=None, rows=1):
    """Add ``delta`` to the first ``rows`` values of a shard (re-gzipped); with ``manifest``,
    also fix its checksum there (a deliberate forgery). Returns the first edited row."""
    t = pd.read_csv(path, compression="gzip", dtype={"sample": str})
    t.loc[:rows - 1, "value"] += delta
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(t.to_csv(index=False, float_format="%.6g").encode())
    path.write_bytes(buf.getvalue())
    if manifest is not None:
        m = json.loads(manifest.read_text())
        m["shards"][path.name]["sha256"] = hashlib.sha256(buf.getvalue()).hexdigest()
        manifest.write_text(json.dumps(m))
    return t.loc[0]
