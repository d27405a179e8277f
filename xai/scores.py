"""Which number is explained: the class score (logit by default, or probability) per sample."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from . import probe as probes
from ._batching import check_batch_size

SCORES = ("logit", "probability")


def check_score(score: str) -> str:
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}: 'logit' explains the "
                         "pre-softmax class score, 'probability' the model's output.")
    return score


def check_probe_score(probe: probes.Probe, score: str) -> str:
    """``score`` is known and means something for this model: a probability needs a final
    softmax/sigmoid, or several logits to take a softmax of (a single linear unit has none)."""
    check_score(score)
    if score == "logit" and probe.inside:
        raise ValueError(
            f"score='logit' needs the class scores before the {probe.final_activation}, but "
            f"the model's {probe.final_activation} is not its last layer "
            f"({' → '.join(probe.inside)}), so its output has no logits that xai can reach. "
            f"Use score='probability', or end the model in the {probe.final_activation} "
            "(e.g. pool or reshape the logits before it).")
    if score == "probability" and probe.binary and probe.final_activation != "sigmoid":
        raise ValueError(
            "score='probability' needs a probability, but the model ends in a single unit "
            f"with {probe.final_activation or 'no'} activation (a softmax over one unit is "
            "always 1). Use score='logit', or end a binary classifier in Dense(1, "
            "activation='sigmoid').")
    return score


def transform(z, probe: probes.Probe, score: str):
    """Turn pre-activation scores z into the requested score (inside a tf.function). Every method
    comes through here, so a mistyped or meaningless ``score`` fails in the exported functions
    too. Binary models (one sigmoid unit, z = [−logit, logit]) give [1 − p, p]."""
    check_probe_score(probe, score)
    if score == "logit":
        return z
    if probe.inside:  # z is the output: a probability already ([−p, p] for one unit)
        return z + [1.0, 0.0] if probe.binary else z
    if probe.final_activation == "sigmoid":
        return tf.sigmoid(z)
    return tf.nn.softmax(z, axis=-1)


def select(z, targets):
    """z[i, targets[i]], where a negative target means the sample's top-1 class (the rule of
    :func:`fill_top1`, inside a graph)."""
    targets = tf.where(targets < 0, tf.argmax(z, axis=-1, output_type=tf.int32), targets)
    return tf.gather(z, targets, axis=1, batch_dims=1), targets


def masked(probe: probes.Probe, xs, masks, t, score: str):
    """S_t(x ⊙ M) for each masked input (inside a tf.function): the one scoring kernel of the
    masking methods (Score-CAM, RISE, SISE). ``xs`` (B, *size, C) or one sample (*size, C) for
    all masks, ``masks`` (B, *size), ``t`` one class or one per row."""
    z = transform(probe.model(xs * masks[..., None], training=False), probe, score)
    if len(t.shape) == 0:
        return z[:, t]
    return tf.gather(z, t, axis=1, batch_dims=1)


@dataclass(frozen=True)
class Setup:
    """What every method starts from: the probe, x as a float32 tensor, per-sample targets."""
    probe: probes.Probe
    x: tf.Tensor
    targets: np.ndarray


def prepare(model, x, target, score: str, path: tuple | None = None, pin_top1: bool = False,
            batch_size: int = 64, guided: bool = False) -> Setup:
    """The one setup of every method: the probe for ``path`` (None: scores only), x as float32,
    ``target`` resolved per sample (-1 = top-1) and ``score`` checked against the model.
    ``pin_top1`` replaces -1 by each clean sample's top-1 class, so that noisy, interpolated or
    masked copies keep explaining it."""
    probe = probes.build_probe(model, path, guided)
    check_probe_score(probe, score)
    x = tf.convert_to_tensor(x, tf.float32)
    targets = resolve_targets(target, int(x.shape[0]), probe.num_classes)
    if pin_top1 and (targets < 0).any():
        targets = fill_top1(targets, class_scores(model, x, top1_score(model), batch_size))
    return Setup(probe, x, targets)


def resolve_targets(target, n: int, num_classes: int) -> np.ndarray:
    """Per-sample int32 class indices; -1 marks "top-1 of that sample".

    ``target``: None (top-1), an int or class name for all samples, or a sequence of N of those.
    Names are ImageNet class names (e.g. "tabby") and need a 1000-class model. A single-unit
    (binary) model has two classes: 1 (the unit's logit, p) and 0 (its negation, 1 − p); its
    top-1 is class 1 where p > 0.5, as Keras' binary accuracy counts it. A single unit without
    sigmoid is read the same way (its value y as a logit, top-1 = 1 where y > 0): for a
    regression output give target=1, which explains y whatever its sign.
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
        from .imagenet import imagenet_class_id
        return imagenet_class_id(t)
    if t is None:
        return -1
    if not isinstance(t, (int, np.integer)) or isinstance(t, bool):
        raise TypeError(f"target entries must be int class indices or class names, got {t!r}")
    if not 0 <= int(t) < num_classes:
        raise ValueError(f"target {int(t)} is outside [0, {num_classes}): the model has "
                         f"{num_classes} classes.")
    return int(t)


def fill_top1(targets, clean_scores) -> np.ndarray:
    """The one top-1 rule: each -1 in ``targets`` becomes its sample's largest score in
    ``clean_scores`` (N, classes), the scores of the clean input (:func:`top1_score`)."""
    targets = np.asarray(targets)
    return np.where(targets < 0, np.argmax(clean_scores, axis=-1), targets).astype(np.int32)


def top1_score(model) -> str:
    """The score whose largest entry is the top-1: the logit, or the output when a softmax
    inside the model leaves no logits."""
    return "probability" if probes.build_probe(model, None).inside else "logit"


def top_classes(model, x, batch_size: int = 64) -> np.ndarray:
    """Each sample's top-1 class (:func:`fill_top1` of all -1)."""
    return fill_top1(np.full(len(x), -1), class_scores(model, x, top1_score(model), batch_size))


def class_scores(model, x, score: str = "logit", batch_size: int = 64) -> np.ndarray:
    """All class scores (N, classes) of ``model`` on ``x``: logits (a final softmax/sigmoid
    stripped, without touching the model) or probabilities."""
    batch_size = check_batch_size(batch_size)
    probe = probes.build_probe(model, None)
    check_probe_score(probe, score)
    fn = probes.compiled(probe, ("scores", score), _scores, probe=probe, score=score)
    x = tf.convert_to_tensor(x, tf.float32)
    return np.concatenate([fn(x[i:i + batch_size]).numpy()
                           for i in range(0, int(x.shape[0]), batch_size)], axis=0)


def _scores(xb, *, probe, score):
    return transform(probe.model(xb, training=False), probe, score)
