"""Which number is explained: the class score (logit by default, or probability) per sample."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from . import layers
from ._batching import check_batch_size

SCORES = ("logit", "probability")


def check_score(score: str) -> str:
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}: 'logit' explains the "
                         "pre-softmax class score, 'probability' the model's output.")
    return score


def transform(z, probe: layers.Probe, score: str):
    """Turn pre-activation scores z into the requested score (inside a tf.function). Every method
    comes through here, so a mistyped ``score`` fails in the exported functions too."""
    check_score(score)
    if score == "logit":
        return z
    if probe.final_activation == "sigmoid":
        return tf.sigmoid(z)
    return tf.nn.softmax(z, axis=-1)


def select(z, targets):
    """z[i, targets[i]], where a negative target means the sample's top-1 class."""
    targets = tf.where(targets < 0, tf.argmax(z, axis=-1, output_type=tf.int32), targets)
    return tf.gather(z, targets, axis=1, batch_dims=1), targets


def resolve_targets(target, n: int, num_classes: int) -> np.ndarray:
    """Per-sample int32 class indices; -1 marks "top-1 of that sample".

    ``target``: None (top-1), an int or class name for all samples, or a sequence of N of those.
    Names are ImageNet class names (e.g. "tabby") and need a 1000-class model.
    """
    if target is None:
        return np.full(n, -1, np.int32)
    if isinstance(target, (str, int, np.integer)) or np.ndim(target) == 0:
        target = [target] * n
    target = list(np.asarray(target, dtype=object).ravel())
    if len(target) != n:
        raise ValueError(f"target has {len(target)} entries for {n} samples; give one class per "
                         "sample, a single class for all, or None for each sample's top-1 class.")
    out = np.array([_class_index(t, num_classes) for t in target], np.int32)
    return out


def _class_index(t, num_classes: int) -> int:
    if isinstance(t, str):
        if num_classes != 1000:
            raise ValueError(f"target {t!r} is a class name, but names are known only for "
                             f"1000-class ImageNet models (this model has {num_classes} classes); "
                             "pass the class index instead.")
        from .models import imagenet_class_id
        return imagenet_class_id(t)
    if t is None:
        return -1
    if not isinstance(t, (int, np.integer)) or isinstance(t, bool):
        raise TypeError(f"target entries must be int class indices or class names, got {t!r}")
    if not 0 <= int(t) < num_classes:
        raise ValueError(f"target {int(t)} is outside [0, {num_classes}): the model has "
                         f"{num_classes} classes.")
    return int(t)


def fix_targets(model, x, targets, batch_size):
    """Replace -1 (top-1) by each clean sample's top-1, so noisy/interpolated copies keep it."""
    if (targets >= 0).all():
        return targets
    top = np.argmax(class_scores(model, x, "logit", batch_size), -1)
    return np.where(targets < 0, top, targets).astype(np.int32)


def class_scores(model, x, score: str = "logit", batch_size: int = 64) -> np.ndarray:
    """All class scores (N, classes) of ``model`` on ``x``: logits (a final softmax/sigmoid
    stripped, without touching the model) or probabilities."""
    check_score(score)
    batch_size = check_batch_size(batch_size)
    probe = layers.build_probe(model, None)
    fn = layers.compiled(probe, ("scores", score), _scores, probe=probe, score=score)
    x = tf.convert_to_tensor(x, tf.float32)
    return np.concatenate([fn(x[i:i + batch_size]).numpy()
                           for i in range(0, int(x.shape[0]), batch_size)], axis=0)


def _scores(xb, *, probe, score):
    return transform(probe.model(xb, training=False), probe, score)
