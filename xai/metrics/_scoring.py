"""Private plumbing of the metrics: argument checks, map ranking, baselines, class scores and the
one masked-scoring kernel (:func:`masked_scores`) through which every metric that re-scores
perturbed inputs goes.

A metric is a short *rule* on the kernel: a function ``build(i, j)`` that, given the sample
indices ``i`` and variant indices ``j`` of a batch of (sample, variant) pairs, returns the
batch of perturbed inputs. The kernel walks the N × V pairs ``batch_size`` at a time, so
memory does not grow with N or with the number of variants V.
"""
from __future__ import annotations

import numpy as np


# --------------------------------------------------------------------------- checks
def check_finite(values, what: str = "maps", fix: str = "replace or drop them") -> np.ndarray:
    """``values`` as a float64 array; a ValueError counting its NaN / inf entries if any."""
    v = np.asarray(values, np.float64)
    bad = int(v.size - np.count_nonzero(np.isfinite(v)))
    if bad:
        raise ValueError(f"{what} contain {bad} NaN/inf values; {fix}")
    return v


def check_batch(model, x, batch_size) -> np.ndarray:
    """x checked like xai.explain's input (rank, channels, size, NaN, empty), and batch_size."""
    from .._batching import check_batch_size
    from ..explain import check_input

    check_batch_size(batch_size)
    return check_input(model, x)


def spatial_shape(x: np.ndarray) -> tuple:
    """The points of x: (H, W) of images (N, H, W, C), (T,) of signals (N, T, C) or (N, T)."""
    return x.shape[1:-1] if x.ndim >= 3 else x.shape[1:]


def spatial_maps(x: np.ndarray, maps) -> np.ndarray:
    """Validate ``maps`` against ``x`` and return float (N, P) maps over the P spatial points."""
    maps = check_finite(maps, "maps", "a metric cannot rank or weigh such points: fix the "
                        "method that made them, or replace them (e.g. np.nan_to_num).")
    if x.ndim < 2:
        raise ValueError(f"x must be a batch (N, ...) of inputs; got shape {x.shape}")
    if x.ndim >= 3 and maps.shape == x.shape:
        maps = maps.mean(axis=-1)  # attribution with channels: one value per point
    spatial = x.shape[:1] + spatial_shape(x)
    if maps.shape != spatial:
        raise ValueError(
            f"maps of shape {maps.shape} do not fit x of shape {x.shape}: expected {spatial} "
            f"(one value per point, shared by the channels) or {x.shape} (reduced by the mean "
            "over channels)"
        )
    return maps.reshape(len(x), -1)


# --------------------------------------------------------------------------- ranking, baselines
def point_order(maps2d: np.ndarray) -> np.ndarray:
    """order[i, r] = the point of rank r of sample i: decreasing value, ties in row-major
    order (the inverse of :func:`rank_points`)."""
    return np.argsort(-maps2d, axis=1, kind="stable")


def rank_points(maps2d: np.ndarray) -> np.ndarray:
    """rank[i, p] = position of point p when sample i's points are sorted by decreasing value
    (ties in row-major order)."""
    order = point_order(maps2d)
    out = np.empty_like(order)
    np.put_along_axis(out, order, np.arange(maps2d.shape[1])[None, :], axis=1)
    return out.astype(np.int32)


def blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a batch along its spatial axes only (not samples, not channels)."""
    from scipy.ndimage import gaussian_filter

    sig = [0.0] + [float(sigma)] * (x.ndim - 2) + [0.0] if x.ndim >= 3 else [0.0, float(sigma)]
    return gaussian_filter(x, sigma=sig, mode="reflect").astype(np.float32)


def baseline_input(x: np.ndarray, value, blur_sigma: float) -> np.ndarray:
    """The input that removed points take: a number, an array broadcastable to x, or "blur"."""
    if isinstance(value, str):
        if value != "blur":
            raise ValueError(f"baseline must be a number, an array or 'blur'; got {value!r}")
        if not np.isfinite(blur_sigma) or blur_sigma <= 0:
            raise ValueError(f"blur_sigma must be a finite std > 0 in points (e.g. 5.0), got "
                             f"{blur_sigma!r}: it would leave x unblurred")
        return blur(x, blur_sigma)
    b = np.asarray(value, np.float32)
    check_finite(b, "baseline", "the removed points need a finite value (e.g. 0.0 or 'blur').")
    try:
        return np.broadcast_to(b, x.shape)
    except ValueError:
        raise ValueError(
            f"baseline of shape {b.shape} does not broadcast to x of shape {x.shape}"
        ) from None


def on_points(x: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """(B, P) values per point reshaped to broadcast against a batch of x (over channels)."""
    out = flat.reshape((len(flat),) + tuple(spatial_shape(x)))
    return out[..., None] if x.ndim >= 3 else out


# --------------------------------------------------------------------------- scores
def scores_fn(model, score: str, batch_size: int):
    """f(x) -> every class score (N, classes), logits or probabilities."""
    from .. import scores

    scores.check_score(score)

    def fn(xb):
        return scores.class_scores(model, xb, score=score, batch_size=batch_size)

    return fn


def class_targets(target, all_scores: np.ndarray) -> np.ndarray:
    """``target`` resolved per sample, None / -1 meaning each sample's top-1 in ``all_scores``."""
    from .. import scores

    n, num_classes = all_scores.shape
    t = scores.resolve_targets(target, n, num_classes)
    return scores.fill_top1(t, all_scores).astype(np.int64)


def given_targets(model, target, x, fn) -> np.ndarray:
    """``target`` resolved per sample like :func:`class_targets`, scoring x (``fn``) only when
    some sample needs its top-1 class: explicit targets cost no forward pass."""
    from .. import probe as probes
    from .. import scores

    t = scores.resolve_targets(target, len(x), probes.build_probe(model, None).num_classes)
    if (t < 0).any():
        return class_targets(target, fn(x))
    return t.astype(np.int64)


def masked_scores(fn, targets, n: int, variants: int, build, batch_size: int) -> np.ndarray:
    """The masked-scoring kernel: target scores of N × V perturbed inputs, float64 (N, V).

    Pairs (i, j), sample i < n and variant j < ``variants``, are taken in row-major order
    ``batch_size`` at a time; ``build(i, j)`` (int arrays of the batch's pairs) returns their
    inputs, which ``fn`` scores; entry (i, j) is the score of class ``targets[i]``.
    """
    out = np.empty(n * variants, np.float64)
    for start in range(0, n * variants, batch_size):
        p = np.arange(start, min(start + batch_size, n * variants))
        i, j = p // variants, p % variants
        xb = np.asarray(build(i, j), np.float32)  # no copy when build gives float32
        out[p] = fn(xb)[np.arange(len(p)), targets[i]]
    return out.reshape(n, variants)


# --------------------------------------------------------------------------- shared by several
def pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of a with the same row of b, (N,). A constant row has no
    correlation: 1 when both rows are equal constants, else 0 (never NaN)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    ok = (na > 0) & (nb > 0)
    r = np.divide((a * b).sum(axis=1), na * nb, out=np.zeros(len(a)), where=ok)
    return np.where((na == 0) & (nb == 0), 1.0, np.clip(r, -1.0, 1.0))


def method_name(method) -> str:
    """How an error names a method: its registry name or the callable's name."""
    return method if isinstance(method, str) else getattr(method, "__name__", repr(method))


def run_method(method, options, seed=None):
    """f(model, x, targets) -> maps, for a method name or a callable explainer. A registered
    method that takes ``seed`` (RISE, SmoothGrad, ...) gets the metric's ``seed``, so its own
    randomness is the same on every call and only the metric's change moves the map."""
    if callable(method):
        return lambda m, x, t: method(m, x, target=t, **options)
    from .. import METHODS, explain

    if method in METHODS and "seed" in METHODS[method].options() and seed is not None:
        options = {"seed": seed, **options}
    return lambda m, x, t: explain(m, x, method=method, target=t, **options)


def method_maps(out, method) -> np.ndarray:
    """A method's maps (IG's (attr, delta) gives attr) as float64, refusing NaN / inf."""
    m = out[0] if isinstance(out, tuple) else out
    return check_finite(m, f"maps of method {method_name(method)!r}",
                        "the metric would score them as if they were zeros: fix the method "
                        "or its options.")
