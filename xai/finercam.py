"""Finer-CAM (Zhang et al., CVPR 2025): a gradient CAM of a score that compares the target class
c with the classes it is most easily confused with, so the map shows what sets c apart:

    S = Σ_d p_d (y_c − α y_d) / Σ_d p_d,   d ∈ the K classes whose scores are nearest to y_c,

p = softmax(z) of the input (fixed weights, no gradient through them). α = 0 gives the base CAM
of y_c; K = 1 gives the base CAM of y_c − α y_d. The base rule is any of :data:`xai.cam.RULES`.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from . import cam, layers, scores
from . import probe as probes
from ._batching import per_chunk
from .explain import register
from .maps import finish


def comparison_score(z, y, t, compare, alpha):
    """S per sample (inside a graph). ``z`` logits (B, C) for the weights p = softmax(z); ``y``
    the scores compared (B, C); ``t`` (B,) targets; ``compare`` (B, K) classes, where a row of
    -1 means "the K classes whose y is nearest to y_t" (t itself excluded)."""
    y_t = tf.gather(y, t, axis=1, batch_dims=1)
    distance = tf.abs(y - y_t[:, None])
    distance = tf.where(tf.one_hot(t, tf.shape(y)[1]) > 0, np.inf, distance)
    nearest = tf.math.top_k(-distance, k=tf.shape(compare)[1]).indices
    d = tf.where(compare < 0, nearest, compare)
    p = tf.gather(tf.stop_gradient(tf.nn.softmax(z, axis=-1)), d, axis=1, batch_dims=1)
    y_d = tf.gather(y, d, axis=1, batch_dims=1)
    return tf.reduce_sum(p * (y_t[:, None] - alpha * y_d), 1) / tf.reduce_sum(p, 1)


def _finer_maps(xb, tb, alpha, *, probe, rule, score, size, normalize):
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(xb)
        A, z = probe.model(xb, training=False)
        _, t = scores.select(z, tb[:, 0])
        s = comparison_score(z, scores.transform(z, probe, score), t, tb[:, 1:], alpha)
    return finish(rule(A, tape.gradient(s, A)), size, normalize)


def _compare_rows(compare, k: int, n: int, num_classes: int) -> np.ndarray:
    """(n, K) comparison classes: -1 (the nearest K, at most the other classes) when
    ``compare`` is None."""
    if compare is None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k (the number of compared classes) must be a positive integer, "
                             f"got {k!r}")
        return np.full((n, min(int(k), num_classes - 1)), -1, np.int32)
    rows = np.asarray(compare)
    rows = np.broadcast_to(rows, (n, rows.size)) if rows.ndim <= 1 else rows
    if rows.ndim != 2 or len(rows) != n or rows.shape[1] < 1 \
            or not np.issubdtype(rows.dtype, np.integer) \
            or not ((rows >= 0) & (rows < num_classes)).all():
        raise ValueError(f"compare must be class indices in [0, {num_classes}): one list for all "
                         f"samples or one row per sample ({n}), got {compare!r}")
    return rows.astype(np.int32)


@register("finercam", returns="map", layer="one", label="Finer-CAM",
          count=lambda model, o: (1, 1))
def finercam(model, x, layer=None, target=None, score="logit", alpha=1.0, k=3, compare=None,
             base="gradcam", normalize=True, upsample=True, batch_size=32, progress=True):
    """Finer-CAM (Zhang et al., CVPR 2025): the ``base`` CAM rule ("gradcam" by default; any of
    ``xai.cam.RULES`` but "eigencam") applied to the gradient of S = Σ_d p_d (y_c − α y_d) /
    Σ_d p_d over the ``k`` classes d whose scores are nearest to the target's (or the classes
    in ``compare``: one list for all samples or one row per sample), with p = softmax(logits) as
    fixed weights. ``score`` chooses y (logits, or probabilities). One forward and one
    backward pass per sample. Returns (N, H, W) / (N, T) maps in [0, 1] (see ``weighted_cam``).
    """
    if base not in cam.RULES or base == "eigencam":
        raise ValueError(f"base must be a gradient CAM rule, one of "
                         f"{tuple(r for r in cam.RULES if r != 'eigencam')}; got {base!r}")
    s = scores.prepare(model, x, target, score, layers.resolve_layer(model, layer))
    rows = _compare_rows(compare, k, len(s.targets), s.probe.num_classes)
    size = tuple(s.x.shape[1:-1]) if upsample else None
    fn = probes.compiled_gradient(s.probe, ("finercam", base, score, size, normalize), _finer_maps,
                                  probe=s.probe, rule=cam.RULES[base], score=score, size=size,
                                  normalize=normalize)
    targets = np.concatenate([s.targets[:, None], rows], 1)
    alpha = tf.constant(float(alpha), tf.float32)
    maps = per_chunk(lambda xb, tb: fn(xb, tb, alpha), s.x, targets, batch_size, progress,
                     "finercam")
    return maps.astype(np.float32, copy=False)

