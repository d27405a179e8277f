"""Opti-CAM (Zhang, Torres, Sicre, Avrithis & Ayache, 2024, "Opti-CAM: Optimizing saliency maps
for interpretability", CVIU; arXiv 2301.07002): CAM channel weights optimised per sample so that
the input masked by the normalised saliency map keeps the class score as high as possible.

    S_u = Σ_k softmax(u)_k A^k,   F(u) = g_c(x ⊙ n(up(S_u))),   n(S) = (S − min S) / (max S − min S)

u is maximised by Adam, all samples of a chunk at once in one compiled loop (u is (B, K); Adam's
moments are per element, so each sample's run is its own)."""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from . import layers, scores
from . import probe as probes
from ._batching import per_chunk
from .explain import register
from .maps import finish, upsample

#: Adam's constants (Kingma & Ba, 2015, Algorithm 1; PyTorch's defaults, as in the paper's code)
BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8


def _passes(model, o) -> tuple[int, int]:
    """One pass for A (and the top-1), then per Adam step a forward and a backward pass of the
    masked input, and one more forward pass to score the last step's weights."""
    steps = int(o["iterations"])
    return 1 + steps + int(steps > 0), steps


@register("opticam", returns="map", layer="one", label="Opti-CAM", count=_passes)
def opticam(model, x, layer=None, target=None, score="logit", iterations=100, learning_rate=0.1,
            normalize=True, upsample=True, batch_size=32, progress=True):
    """Opti-CAM (Zhang et al., CVIU 2024): the saliency map S_u = Σ_k softmax(u)_k A^k whose
    min-max-normalised, upsampled version n(up(S_u)) used as a mask keeps the target's score
    highest; u is found by gradient ascent on F(u) = g_c(x ⊙ n(up(S_u))).

    As in the paper and the authors' code (github.com/hanwei0912/OptiCAM): Adam (β = 0.9,
    0.999, ε = 1e-8), learning rate 0.1, ``iterations`` = 100 steps, equal weights at the start
    (u = 0: the mean channel), bilinear upsampling, activations A passed through a ReLU (so
    S_u ≥ 0; a layer with negative activations, e.g. a linear convolution, contributes only its
    positive part) and ``score="logit"`` (g_c the target's logit; "probability" also works).
    Unlike the authors' code, which returns the last iterate, the weights returned are the
    best-scoring of all iterates u_0 … u_T (u_T scored by one more forward pass), so F is never
    below that of the uniform start.

    Returns float32 (N, H, W) / (N, T) maps: n(up(S_u)), the optimised mask itself, in [0, 1]
    (``normalize=False``: up(S_u) ≥ 0 unscaled; ``upsample=False``: at the feature map's
    resolution, then min-max scaled there). ``iterations=0`` gives the uniform-weights map.
    Costs 2 + iterations forward and ``iterations`` backward passes per sample.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) \
            or iterations < 0:
        raise ValueError(f"iterations (Adam steps) must be an integer ≥ 0 (the paper uses "
                         f"100), got {iterations!r}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.number)) \
            or not math.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be a positive number (the paper uses 0.1), "
                         f"got {learning_rate!r}")
    setup = scores.prepare(model, x, target, score, layers.resolve_layer(model, layer),
                           batch_size=batch_size)
    probe, x = setup.probe, setup.x
    size = tuple(x.shape[1:-1])
    key = ("opticam", score, bool(upsample), bool(normalize))
    fn = probes.compiled_gradient(probe, key, _opticam_chunk, probe=probe, score=score,
                                  scorer=probes.build_probe(model, None), size=size,
                                  out_size=size if upsample else None, normalize=normalize)
    steps, rate = tf.constant(int(iterations)), tf.constant(float(learning_rate))
    return per_chunk(lambda xb, tb: fn(xb, tb, steps, rate), x, setup.targets, batch_size,
                     progress, "opticam").astype(np.float32, copy=False)


def saliency(A, u):
    """S_u = Σ_k softmax(u)_k A^k for A (B, *s, K) and u (B, K): (B, *s)."""
    w = tf.nn.softmax(u, axis=-1)
    return tf.reduce_sum(A * tf.reshape(w, [tf.shape(u)[0]] + [1] * (len(A.shape) - 2) + [-1]),
                         axis=-1)


def normalised(maps):
    """n(S) = (S − min S) / (max S − min S) per sample (a constant map gives zeros)."""
    axes = list(range(1, len(maps.shape)))
    lo = tf.reduce_min(maps, axes, keepdims=True)
    return tf.math.divide_no_nan(maps - lo, tf.reduce_max(maps, axes, keepdims=True) - lo)


def adam_step(u, m, v, g, t, rate):
    """One Adam ascent step (Kingma & Ba, 2015, Algorithm 1) on each element; t counts from 1."""
    m = BETA1 * m + (1.0 - BETA1) * g
    v = BETA2 * v + (1.0 - BETA2) * tf.square(g)
    m_hat = m / (1.0 - tf.pow(BETA1, t))
    v_hat = v / (1.0 - tf.pow(BETA2, t))
    return u + rate * m_hat / (tf.sqrt(v_hat) + EPSILON), m, v


def _opticam_chunk(xb, tb, steps, rate, *, probe, score, scorer, size, out_size, normalize):
    """The whole optimisation of a chunk in one graph: A, then Adam on u, keeping the best u."""
    A, z = probe.model(xb, training=False)
    t = scores.select(scores.transform(z, probe, score), tb)[1]
    A = tf.stop_gradient(tf.nn.relu(A))

    def objective(u):
        mask = normalised(upsample(saliency(A, u), size))
        return scores.masked(scorer, xb, mask, t, score)

    def keep_best(u, f, best_u, best_f):
        better = f > best_f
        return tf.where(better[:, None], u, best_u), tf.where(better, f, best_f)

    def body(i, u, m, v, best_u, best_f):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(u)
            f = objective(u)
        g = tape.gradient(f, u)
        best_u, best_f = keep_best(u, f, best_u, best_f)
        u, m, v = adam_step(u, m, v, g, tf.cast(i + 1, tf.float32), rate)
        return i + 1, u, m, v, best_u, best_f

    u0 = tf.zeros([tf.shape(A)[0], A.shape[-1]], tf.float32)
    worst = tf.fill([tf.shape(A)[0]], -np.inf)
    _, u, _, _, best_u, best_f = tf.while_loop(
        lambda i, *_: i < steps, body, (tf.constant(0), u0, u0, u0, u0, worst))
    best_u = tf.cond(steps > 0, lambda: keep_best(u, objective(u), best_u, best_f)[0],
                     lambda: best_u)
    maps = saliency(A, best_u)
    if out_size is not None:
        maps = upsample(maps, out_size)
    return finish(normalised(maps) if normalize else maps, None, False)
