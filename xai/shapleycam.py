"""ShapleyCAM (Cai, 2025, "CAMs as Shapley value-based explainers", eq. 11): channel weights from
a second-order expansion of the score around the activation A,

    w_k = mean_ij (∂S/∂A − ½ H_A·A)^k_ij,   map = ReLU(Σ_k w_k A^k),

where H_A·A is the Hessian of S with respect to A applied to A itself: a Hessian-vector
product, computed by differentiating (∂S/∂A)·stop(A) once more (a double backward). When S is
linear in A (a GAP + Dense head, logit score) H_A·A = 0 and ShapleyCAM is Grad-CAM.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from . import layers, scores
from . import probe as probes
from ._batching import per_chunk
from .explain import register
from .maps import finish


def gradient_and_hvp(probe: probes.Probe, xb, tb, score: str):
    """(A, ∂S/∂A, H_A·A) for a batch (inside a graph): S = the target's score per sample."""
    with tf.GradientTape(watch_accessed_variables=False) as outer:
        outer.watch(xb)
        with tf.GradientTape(watch_accessed_variables=False) as inner:
            inner.watch(xb)  # records x → A → z even when the weights are frozen
            A, z = probe.model(xb, training=False)
            s, _ = scores.select(scores.transform(z, probe, score), tb)
        g = inner.gradient(s, A)
        directional = tf.reduce_sum(g * tf.stop_gradient(A))
    hvp = outer.gradient(directional, A, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return A, g, hvp


def _shapley_maps(xb, tb, *, probe, score, size, normalize):
    A, g, hvp = gradient_and_hvp(probe, xb, tb, score)
    axes = list(range(1, len(A.shape) - 1))
    w = tf.reduce_mean(g - 0.5 * hvp, axes, keepdims=True)
    return finish(tf.nn.relu(tf.reduce_sum(w * A, axis=-1)), size, normalize)


@register("shapleycam", returns="map", layer="one", label="ShapleyCAM",
          count=lambda model, o: (1, 1))
def shapleycam(model, x, layer=None, target=None, score="logit", normalize=True, upsample=True,
               batch_size=32, progress=True):
    """ShapleyCAM (Cai, 2025): Grad-CAM's weights corrected by the second-order term,
    w_k = mean_ij (∂S/∂A − ½ H_A·A)^k_ij, map = ReLU(Σ_k w_k A^k). Per sample: one forward
    pass, one backward pass to A, and the Hessian-vector product, which runs only through the
    layers after A (about two more backward passes of that tail). With the
    logit score a network that is piecewise linear after A (ReLU, pooling, Dense) has H = 0
    almost everywhere, so the maps equal Grad-CAM's; the probability score (``score=
    "probability"``, the softmax's curvature) is where they differ. Returns (N, H, W) / (N, T)
    maps in [0, 1] (see ``weighted_cam``)."""
    s = scores.prepare(model, x, target, score, layers.resolve_layer(model, layer))
    size = tuple(s.x.shape[1:-1]) if upsample else None
    fn = probes.compiled_gradient(s.probe, ("shapleycam", score, size, normalize), _shapley_maps,
                                  probe=s.probe, score=score, size=size, normalize=normalize)
    maps = per_chunk(fn, s.x, s.targets, batch_size, progress, "shapleycam")
    return maps.astype(np.float32, copy=False)
