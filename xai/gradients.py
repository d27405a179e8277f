"""Input-gradient methods: saliency, SmoothGrad, Integrated Gradients, guided backprop and guided
Grad-CAM. All return signed float32 attributions with x's shape."""
from __future__ import annotations

import logging
import warnings

import numpy as np
import tensorflow as tf

from . import cam, scores
from . import probe as probes
from ._batching import chunks, noisy_mean, noisy_sum_chunk, per_chunk
from .explain import register

log = logging.getLogger("xai")
RULES = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gauss_legendre")


def grad_fn(probe: probes.Probe, score: str):
    """tf.function (x, targets) → (∂S/∂x, S, resolved targets)."""
    return probes.compiled_gradient(probe, ("input_grad", score), _input_grad, probe=probe,
                                    score=score)


def _input_grad(xb, tb, *, probe, score):
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(xb)
        z = probe.model(xb, training=False)
        s, t = scores.select(scores.transform(z, probe, score), tb)
    return tape.gradient(s, xb), s, t


def _setup(model, x, target, score, pin_top1=False, batch_size=32, guided=False):
    s = scores.prepare(model, x, target, score, None, pin_top1, batch_size, guided)
    return s.probe, s.x, s.targets


@register("saliency", returns="attribution", label="Saliency", count=lambda model, o: (1, 1))
def saliency(model, x, target=None, score="logit", batch_size=32, progress=True):
    """Vanilla gradient ∂S_c/∂x (Simonyan et al., 2014), signed."""
    return _input_gradients(model, x, target, score, batch_size, progress, guided=False)


def _input_gradients(model, x, target, score, batch_size, progress, guided):
    probe, x, targets = _setup(model, x, target, score, guided=guided)
    fn = grad_fn(probe, score)
    return per_chunk(lambda xb, tb: fn(xb, tb)[0], x, targets, batch_size, progress,
                     "guided backprop" if guided else "saliency")


@register("smoothgrad", returns="attribution", label="SmoothGrad",
          count=lambda model, o: (o["n"], o["n"]), pins_top1=True)
def smoothgrad(model, x, target=None, score="logit", n=25, spread=0.15, batch_size=32,
               seed=None, progress=True):
    """SmoothGrad (Smilkov et al., 2017): mean gradient over ``n`` copies x + N(0, σ²),
    σ = spread · (max(x) − min(x)) per sample; the n seeded noise draws are shared by all
    samples."""
    probe, x, targets = _setup(model, x, target, score, True, batch_size)
    grad = grad_fn(probe, score)
    fn = probes.compiled_gradient(probe, ("noisy_grad", score), noisy_sum_chunk,
                                  fn=lambda xb, tb: grad(xb, tb)[0])
    mean = noisy_mean(fn, x, targets, n, spread, seed, batch_size, progress, "smoothgrad")
    return mean.astype(np.float32)


# ------------------------------------------------------------------ Integrated Gradients
def quadrature(steps: int, rule: str = "riemann_trapezoid"):
    """Nodes α in [0, 1] and weights (summing to 1) of a quadrature rule with ``steps`` points."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1 \
            or (rule == "riemann_trapezoid" and steps < 2):
        raise ValueError(f"steps must be an integer ≥ {2 if rule == 'riemann_trapezoid' else 1} "
                         f"(or 'auto'), got {steps!r}")
    k = np.arange(steps, dtype=np.float64)
    if rule == "gauss_legendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return (nodes + 1) / 2, weights / 2
    if rule == "riemann_trapezoid":
        w = np.full(steps, 1.0 / (steps - 1))
        w[[0, -1]] /= 2
        return k / (steps - 1), w
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[rule]
    return (k + offset) / steps, np.full(steps, 1.0 / steps)


def _ig_fixed(fn, x, baseline, targets, steps, rule, batch_size, progress):
    """Σ_k w_k ∂S/∂x(b + α_k (x − b)) for every sample, over (sample, step) pairs in chunks of
    exactly batch_size (the last one padded), so memory does not grow with steps."""
    alphas, weights = quadrature(steps, rule)
    n = len(targets)
    owner = np.repeat(np.arange(n), steps)
    alpha = np.tile(alphas, n).astype(np.float32)
    weight = np.tile(weights, n).astype(np.float32)
    total = np.zeros(x.shape, np.float64)
    bs = min(batch_size, len(owner))
    for s in chunks(len(owner), bs, progress, f"IG {steps} steps"):
        idx, a, w = owner[s], alpha[s], weight[s]
        pad = bs - len(idx)
        if pad:  # keep one shape: no retracing on the last chunk
            idx, a, w = (np.concatenate([v, np.repeat(v[-1:], pad)]) for v in (idx, a, w))
            w[-pad:] = 0
        lo, rows = idx[0], idx[-1] - idx[0] + 1  # a chunk covers consecutive samples
        total[lo:lo + rows] += fn(x, baseline, idx, a, w, targets[idx]).numpy()[:rows]
    return (x.numpy() - baseline.numpy()) * total


def _ig_chunk(x, baseline, idx, a, w, t, *, probe, score):
    """Σ over the chunk's (sample, α) pairs of w ∂S/∂x(b + α(x − b)), per sample (relative to
    the chunk's first sample), in one graph."""
    xs, bs = tf.gather(x, idx), tf.gather(baseline, idx)
    shape = [-1] + [1] * (len(x.shape) - 1)
    g = _input_grad(bs + tf.reshape(a, shape) * (xs - bs), t, probe=probe, score=score)[0]
    return tf.math.unsorted_segment_sum(g * tf.reshape(w, shape), idx - idx[0], tf.size(idx))


def _ig_passes(model, o) -> tuple:
    """steps gradients, plus S(x) and S(b); ``steps="auto"`` counts its first round (32 steps),
    a lower bound."""
    if o["steps"] == "auto":
        return 34, 32, False
    return o["steps"] + 2, o["steps"]


@register("integrated_gradients", returns="attribution", label="Integrated Gradients",
          count=_ig_passes)
def integrated_gradients(model, x, target=None, score="logit", baseline=None, steps=64,
                         rule="riemann_trapezoid", return_delta=False, tol=0.01, max_steps=2048,
                         batch_size=64, progress=True, return_steps=False):
    """Integrated Gradients (Sundararajan et al., 2017, eq. 1 and 3):
    (x − b) ⊙ ∫_0^1 ∂S/∂x(b + α(x − b)) dα, by the quadrature ``rule`` with ``steps`` nodes.

    ``baseline``: None = zeros in model-input space, a single sample, or one per sample.
    ``steps="auto"``: start at 32 steps and double the intervals, for the samples not yet
    done, until each sample's relative completeness gap |Σ attr − (S(x) − S(b))| / |S(x) − S(b)|
    ≤ ``tol`` or ``max_steps`` is reached (a warning says so). The trapezoid's levels are 32,
    63, 125, 249, … steps (31·2^j intervals), riemann_left/right's 32, 64, 128, …: their grids
    nest, so each level evaluates only the new nodes and costs in total what the fixed-steps IG
    of the level it stops at costs, with the same attributions (to float32 rounding: within
    rtol 1e-5 in the tests). riemann_middle and gauss_legendre do not nest: each level is
    recomputed (≈ 2× that cost). ``return_delta=True`` also returns that gap Σ attr − (S(x) −
    S(b)) per sample; ``return_steps=True`` also returns (after the gap, if asked) the number
    of steps each sample's attribution used (int (N,)).
    """
    probe, x, targets = _setup(model, x, target, score)
    baseline = _baseline(baseline, x)
    both = scores.class_scores(model, tf.concat([x, baseline], 0), score, batch_size)
    at_x, at_b = np.split(both.astype(np.float64), 2)
    targets = scores.fill_top1(targets, at_x)
    rows = np.arange(len(targets))
    gain = at_x[rows, targets] - at_b[rows, targets]
    fn = probes.compiled_gradient(probe, ("ig", score), _ig_chunk, probe=probe, score=score)
    if steps == "auto":
        attr, used = _ig_auto(fn, x, baseline, targets, gain, rule, tol, max_steps, batch_size,
                              progress)
    else:
        attr = _ig_fixed(fn, x, baseline, targets, steps, rule, batch_size, progress)
        used = np.full(len(targets), steps)
    attr = attr.astype(np.float32)
    out = (attr,)
    if return_delta:
        out += (attr.reshape(len(attr), -1).sum(1, dtype=np.float64) - gain,)
    if return_steps:
        out += (used.astype(np.int64),)
    return out if len(out) > 1 else attr


#: rules whose nodes nest when the number of intervals doubles (the new nodes are the midpoints
#: of the old intervals), so ``steps="auto"`` reuses every gradient it has computed
NESTED = ("riemann_left", "riemann_right", "riemann_trapezoid")


def _ig_auto(fn, x, baseline, targets, gain, rule, tol, max_steps, batch_size, progress):
    """Per-sample doubling until the completeness gap is ≤ tol (see :func:`integrated_gradients`).
    Nested rules refine in place: with m intervals, Q_2m = (Q_m + M_m) / 2, M_m the midpoint rule
    on the same m intervals, so each level costs only its new nodes."""
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) \
            or max_steps < 2:
        raise ValueError(f"max_steps must be an integer ≥ 2, got {max_steps!r}")
    attr, used = np.zeros(x.shape, np.float64), np.zeros(len(targets), np.int64)
    todo, steps, part = np.arange(len(targets)), min(32, int(max_steps)), None
    while True:
        part = _ig_level(fn, x, baseline, targets, todo, steps, rule, part, batch_size, progress)
        attr[todo], used[todo] = part, steps
        gap = np.abs(part.reshape(len(todo), -1).sum(1) - gain[todo])
        done = gap <= tol * np.maximum(np.abs(gain[todo]), 1e-12)
        todo, part = todo[~done], part[~done]
        if not len(todo):
            log.info("Integrated Gradients: completeness gap ≤ %.3g reached with %d steps",
                     tol, steps)
            return attr, used
        finer = 2 * steps - 1 if rule == "riemann_trapezoid" else 2 * steps
        if finer > max_steps:
            warnings.warn(f"Integrated Gradients: {len(todo)} sample(s) still miss completeness "
                          f"by more than tol={tol} at the cap of {steps} steps (rule={rule!r}); "
                          "raise max_steps or tol.", RuntimeWarning, stacklevel=3)
            return attr, used
        steps = finer


def _ig_level(fn, x, baseline, targets, todo, steps, rule, coarser, batch_size, progress):
    """IG of the samples ``todo`` with ``steps`` nodes: from scratch on the first level or for
    a rule that does not nest, else ``coarser`` (the previous level) averaged with the midpoint
    rule on the previous level's intervals ((steps − 1) / 2 of them for the trapezoid, steps / 2
    for left/right)."""
    sel = tf.constant(todo)
    xs, bs = tf.gather(x, sel), tf.gather(baseline, sel)
    if coarser is None or rule not in NESTED:
        return _ig_fixed(fn, xs, bs, targets[todo], steps, rule, batch_size, progress)
    intervals = (steps - 1) // 2 if rule == "riemann_trapezoid" else steps // 2
    mid = _ig_fixed(fn, xs, bs, targets[todo], intervals, "riemann_middle", batch_size, progress)
    return (coarser + mid) / 2


def _baseline(baseline, x):
    if baseline is None:
        return tf.zeros_like(x)
    b = np.asarray(baseline, np.float32)
    if b.shape == tuple(x.shape[1:]):
        b = np.broadcast_to(b, x.shape)
    if b.shape != tuple(x.shape):
        raise ValueError(f"baseline has shape {b.shape}; give one sample {tuple(x.shape[1:])} "
                         f"or one per sample {tuple(x.shape)}, in the model's input space.")
    if not np.isfinite(b).all():
        raise ValueError("baseline contains NaN or inf values.")
    return tf.constant(b)


# ------------------------------------------------------------------ guided backpropagation
@register("guided_backprop", returns="attribution", label="Guided Backprop",
          count=lambda model, o: (1, 1))
def guided_backprop(model, x, target=None, score="logit", batch_size=32, progress=True):
    """Guided Backpropagation (Springenberg et al., 2015): the input gradient where every ReLU
    passes a gradient only where both its input and the incoming gradient are positive. Runs
    the model's own layers and weights (after ``fit`` or ``set_weights`` too) with a gradient
    gate after each ReLU; no layer is copied, so custom and Lambda layers work."""
    return _input_gradients(model, x, target, score, batch_size, progress, guided=True)


@register("guided_gradcam", returns="attribution", layer="one", label="Guided Grad-CAM",
          count=lambda model, o: (2, 2), pins_top1=True)
def guided_gradcam(model, x, layer=None, target=None, score="logit", batch_size=32,
                   progress=True):
    """Guided Grad-CAM (Selvaraju et al., 2017): guided backprop ⊙ upsampled Grad-CAM (the CAM
    of the original model, scaled to [0, 1], broadcast over channels)."""
    _, x, targets = _setup(model, x, target, score, True, batch_size)
    gb = guided_backprop(model, x, targets, score, batch_size, progress)
    maps = cam.weighted_cam(model, x, "gradcam", layer, targets, score, batch_size=batch_size,
                            progress=progress)
    return (gb * maps[..., None]).astype(np.float32)
