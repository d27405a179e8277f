"""The CAM family. One batched pass gives activations A and gradients G = ∂S/∂A; each method is a
small weighting rule on (A, G). Shapes: A, G are (B, *spatial, K) for 2-D (B, h, w, K) and 1-D
(B, t, K) feature maps; raw maps are (B, *spatial).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from . import layers, scores
from . import probe as probes
from ._batching import chunks, noisy_mean, noisy_sum_chunk, per_chunk
from .explain import register
from .maps import channel_masks, finish


def _spatial_axes(t):
    return list(range(1, len(t.shape) - 1))


def _weighted_sum(w, A):
    return tf.nn.relu(tf.reduce_sum(w * A, axis=-1))


def gradcam_rule(A, G):
    """Grad-CAM (Selvaraju et al., 2017, eq. 1-2): w_k = mean_ij G^k_ij; ReLU(Σ_k w_k A^k)."""
    return _weighted_sum(tf.reduce_mean(G, _spatial_axes(G), keepdims=True), A)


def gradcampp_rule(A, G):
    """Grad-CAM++ (Chattopadhay et al., 2018, eq. 19 with S → exp(S)):
    α = g² / (2g² + Σ_ab A_ab g³) (0 where the denominator is 0), w_k = Σ_ij α ReLU(g).
    The sum (not the mean) of activations over positions, as in the paper."""
    g2 = tf.square(G)
    denom = 2.0 * g2 + tf.reduce_sum(A, _spatial_axes(A), keepdims=True) * g2 * G
    alpha = tf.math.divide_no_nan(g2, denom)
    return _weighted_sum(tf.reduce_sum(alpha * tf.nn.relu(G), _spatial_axes(G), keepdims=True), A)


def xgradcam_rule(A, G):
    """XGrad-CAM (Fu et al., 2020, eq. 8): w_k = Σ_ij (A^k_ij / Σ_ab A^k_ab) G^k_ij."""
    share = tf.math.divide_no_nan(A, tf.reduce_sum(A, _spatial_axes(A), keepdims=True))
    return _weighted_sum(tf.reduce_sum(share * G, _spatial_axes(G), keepdims=True), A)


def hirescam_rule(A, G):
    """HiResCAM (Draelos & Carin, 2020, eq. 4): ReLU(Σ_k G^k ⊙ A^k), the gradient kept at
    every position instead of averaged (Grad-CAM's weights are its spatial means)."""
    return tf.nn.relu(tf.reduce_sum(G * A, axis=-1))


def layercam_rule(A, G):
    """Layer-CAM (Jiang et al., 2021, eq. 5-6): ReLU(Σ_k ReLU(G^k) ⊙ A^k)."""
    return tf.nn.relu(tf.reduce_sum(tf.nn.relu(G) * A, axis=-1))


def eigencam_rule(A, G=None):
    """Eigen-CAM (Muhammad & Yeasin, 2020): projection of the activations on their first
    principal component (over positions), sign chosen to agree with the mean activation."""
    spatial = tf.shape(A)[1:-1]
    flat = tf.reshape(A, [tf.shape(A)[0], -1, tf.shape(A)[-1]])  # (B, P, K)
    centred = flat - tf.reduce_mean(flat, axis=1, keepdims=True)
    _, _, v = tf.linalg.svd(centred)
    proj = tf.einsum("bpk,bk->bp", centred, v[:, :, 0])
    mean_act = tf.reduce_mean(flat, axis=-1)
    agree = tf.reduce_sum((proj - tf.reduce_mean(proj, 1, keepdims=True))
                          * (mean_act - tf.reduce_mean(mean_act, 1, keepdims=True)), axis=1)
    proj = proj * tf.where(agree < 0, -1.0, 1.0)[:, None]
    return tf.nn.relu(tf.reshape(proj, tf.concat([[-1], spatial], 0)))


RULES = {"gradcam": gradcam_rule, "gradcam++": gradcampp_rule, "xgradcam": xgradcam_rule,
         "layercam": layercam_rule, "hirescam": hirescam_rule, "eigencam": eigencam_rule}
LABELS = {"gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++", "xgradcam": "XGrad-CAM",
          "layercam": "Layer-CAM", "hirescam": "HiResCAM", "eigencam": "Eigen-CAM"}


# ------------------------------------------------------------------------ shared pieces
def raw_cam_fn(probe: probes.Probe, method: str, score: str, counterfactual: bool = False):
    """tf.function (x, targets) → (raw maps at feature resolution, resolved targets).
    ``counterfactual`` negates the gradients (G → −G)."""
    return probes.compiled_gradient(probe, ("cam", method, score, counterfactual), _raw_cam,
                                    probe=probe, rule=RULES[method], score=score,
                                    grads=method != "eigencam",
                                    sign=-1.0 if counterfactual else 1.0)


def _raw_cam(xb, tb, *, probe, rule, score, grads, sign):
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(xb)  # records x → A → z even when the weights are frozen
        A, z = probe.model(xb, training=False)
        s, t = scores.select(scores.transform(z, probe, score), tb)
        s = sign * s
    return rule(A, tape.gradient(s, A) if grads else None), t


def _setup(model, x, layer, target, score, pin_top1=False, batch_size=32):
    """(probe, x, targets) of :func:`xai.scores.prepare` for the CAM layer."""
    s = scores.prepare(model, x, target, score, layers.resolve_layer(model, layer), pin_top1,
                       batch_size)
    return s.probe, s.x, s.targets


def _out_size(x, upsample_maps):
    return tuple(x.shape[1:-1]) if upsample_maps else None


# ------------------------------------------------------------------------ methods
def _channels(model, layer) -> int:
    """K, the channels of the CAM layer."""
    return int(layers.output_shape(layers.resolve_layer(model, layer)[-1])[-1])


@register(*RULES, returns="map", layer="one", label=LABELS,
          count=lambda model, o: (1, int(o["method"] != "eigencam")))
def weighted_cam(model, x, method="gradcam", layer=None, target=None, score="logit",
                 normalize=True, upsample=True, counterfactual=False, batch_size=32,
                 progress=True):
    """Gradient-weighted CAMs ("gradcam", "gradcam++", "xgradcam", "layercam", "hirescam") and
    Eigen-CAM: one batched pass gives A and G, then the method's rule (see ``RULES``).

    ``counterfactual=True`` uses −G, the gradients of −S (Selvaraju et al., 2017, sec. 5,
    "counterfactual explanations"): regions whose removal would raise the target's score, i.e.
    evidence *against* the class. Not for Eigen-CAM, which uses no gradients.

    Returns float32 (N, H, W) / (N, T) maps ≥ 0, each scaled to [0, 1] (``normalize=False``
    keeps raw values; ``upsample=False`` keeps the feature-map resolution).
    """
    if method not in RULES:
        raise ValueError(f"method must be one of {tuple(RULES)}, got {method!r}")
    if counterfactual and method == "eigencam":
        raise ValueError("counterfactual=True negates the gradients, and Eigen-CAM uses none: "
                         "choose a gradient CAM (e.g. method='gradcam') or drop counterfactual")
    probe, x, targets = _setup(model, x, layer, target, score)
    size = _out_size(x, upsample)
    key = ("cam_maps", method, score, size, normalize, bool(counterfactual))
    fn = probes.compiled_gradient(probe, key, _cam_maps, size=size, normalize=normalize,
                                  raw=raw_cam_fn(probe, method, score, bool(counterfactual)))
    return per_chunk(fn, x, targets, batch_size, progress, method).astype(np.float32, copy=False)


def _cam_maps(xb, tb, *, raw, size, normalize):
    """The whole CAM in one graph: forward, gradients, rule, upsampling, normalisation."""
    return finish(raw(xb, tb)[0], size, normalize)


@register("smooth_gradcam++", returns="map", layer="one", label="Smooth Grad-CAM++",
          count=lambda model, o: (o["n"], o["n"]), pins_top1=True)
def smooth_gradcampp(model, x, layer=None, target=None, score="logit", n=25, spread=0.15,
                     normalize=True, upsample=True, batch_size=32, seed=None, progress=True):
    """Smooth Grad-CAM++ (Omeiza et al., 2019): Grad-CAM++ averaged over ``n`` noisy copies
    x + N(0, σ²), σ = spread · (max(x) − min(x)) per sample. All copies run in batched passes;
    the target is the clean input's class. The n noise draws depend on ``seed`` only and are
    shared by all samples (so results do not depend on batch_size or on the batch's makeup)."""
    # the clean input's top-1 for all noisy copies
    probe, x, targets = _setup(model, x, layer, target, score, True, batch_size)
    raw = raw_cam_fn(probe, "gradcam++", score)
    fn = probes.compiled_gradient(probe, ("noisy_cam", score), noisy_sum_chunk,
                                  fn=lambda xb, tb: raw(xb, tb)[0])
    mean = noisy_mean(fn, x, targets, n, spread, seed, batch_size, progress, "smooth_gradcam++")
    return finish(mean, _out_size(x, upsample), normalize).numpy()


@register("scorecam", returns="map", layer="one", label="Score-CAM",
          count=lambda model, o: (1 + _channels(model, o["layer"]), 0))
def scorecam(model, x, layer=None, target=None, score="logit", normalize=True, upsample=True,
             batch_size=32, progress=True):
    """Score-CAM (Wang et al., 2020): each upsampled, min-max-normalised channel A^k masks the
    input; w = softmax_k(S(x ⊙ M^k)); map = ReLU(Σ_k w_k A^k). Masked passes are batched."""
    probe, x, targets = _setup(model, x, layer, target, score)
    A, targets = activations(probe, x, targets)
    fn = probes.compiled(probe, ("masked", score), _masked_scores, score=score,
                         scorer=probes.build_probe(model, None))
    maps = []
    for i in range(int(x.shape[0])):
        channels = tf.transpose(tf.reshape(A[i], (-1, A.shape[-1])))  # (K, P)
        channels = tf.reshape(channels, (-1,) + tuple(A.shape[1:-1]))
        s = np.concatenate([fn(x[i], channels[c], tf.constant(targets[i], tf.int32)).numpy()
                            for c in chunks(int(channels.shape[0]), batch_size, progress,
                                            desc=f"scorecam {i + 1}/{x.shape[0]}")])
        w = tf.nn.softmax(tf.constant(s, tf.float32))
        maps.append(tf.nn.relu(tf.reduce_sum(A[i] * w, axis=-1)))
    return finish(tf.stack(maps), _out_size(x, upsample), normalize).numpy()


def activations(probe: probes.Probe, x, targets, batch_size=32, progress=False):
    """A (N, *s, K) of the probe's layer and the resolved targets (each -1: the top-1 of z),
    ``batch_size`` samples a pass (Score-CAM, Recipro-CAM)."""
    fn = probes.compiled(probe, ("acts",), _acts, probe=probe)
    parts = [fn(x[s], targets[s]) for s in chunks(len(targets), batch_size, progress,
                                                    "activations")]
    return tf.concat([p[0] for p in parts], 0), np.concatenate([p[1].numpy() for p in parts])


def _acts(xb, tb, *, probe):
    A, z = probe.model(xb, training=False)
    return A, scores.select(z, tb)[1]


def _masked_scores(x1, channels, t, *, score, scorer):
    """S_t(x ⊙ M^k) for a chunk of channels of one sample."""
    return scores.masked(scorer, x1, channel_masks(channels, tuple(x1.shape[:-1])), t, score)

