"""ROAD: RemOve And Debias (Rong et al. 2022, "A consistent and efficient evaluation strategy for
attribution methods", ICML): remove the most (MoRF) or least (LeRF) relevant points and
fill them by *noisy linear imputation*, so that the removal itself does not leak the shape of
the removed region (a black or blurred hole does) and no retraining is needed.

Noisy linear imputation: every removed point p takes the weighted mean of its 8 neighbours q,
weight 1/6 for the 4 direct and 1/12 for the 4 diagonal ones (neighbours outside the image are
left out): Σ_q w_pq (v_p − v_q) = 0 for every removed p, a sparse linear system over the removed
points with the known points on the right-hand side, solved per image for all channels at once
(``scipy.sparse.linalg.spsolve``); then Gaussian noise is added to the imputed points. Signals
(N, T, C) use the 2 direct neighbours (weight 1/2).
"""
from __future__ import annotations

import numpy as np

from ._scoring import (
    check_batch,
    class_targets,
    masked_scores,
    rank_points,
    scores_fn,
    spatial_maps,
    spatial_shape,
)

__all__ = ["road", "noisy_linear_impute"]

_NEIGHBOURS_2D = [(-1, 0, 1 / 6), (1, 0, 1 / 6), (0, -1, 1 / 6), (0, 1, 1 / 6),
                  (-1, -1, 1 / 12), (-1, 1, 1 / 12), (1, -1, 1 / 12), (1, 1, 1 / 12)]


def _neighbours(shape):
    return _NEIGHBOURS_2D if len(shape) == 2 else [(-1, 0.5), (1, 0.5)]


def noisy_linear_impute(image, removed, noise=0.0, rng=None) -> np.ndarray:
    """Noisy linear imputation (Rong et al. 2022) of one image (H, W, C) or signal (T, C): the
    ``removed`` points (bool (H, W) / (T,)) are solved so that each equals the weighted mean of
    its neighbours (see the module docstring), then get N(0, noise²) noise (``rng``: a NumPy
    Generator, needed when noise > 0). Known points are unchanged."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    image = np.asarray(image, np.float64)
    removed = np.asarray(removed, bool)
    shape, channels = removed.shape, image.shape[-1]
    if image.shape[:-1] != shape:
        raise ValueError(f"removed {shape} does not match the image {image.shape}")
    unknown = np.flatnonzero(removed)
    if len(unknown) == removed.size:
        raise ValueError("every point is removed: imputation needs at least one known point")
    flat = image.reshape(-1, channels)
    out = flat.copy()
    if not len(unknown):
        return out.reshape(image.shape)
    index = np.full(removed.size, -1)
    index[unknown] = np.arange(len(unknown))
    coords = np.unravel_index(unknown, shape)
    diag = np.zeros(len(unknown))
    rhs = np.zeros((len(unknown), channels))
    rows, cols, vals = [], [], []
    for *step, weight in _neighbours(shape):
        moved = [c + s for c, s in zip(coords, step)]
        inside = np.all([(m >= 0) & (m < n) for m, n in zip(moved, shape)], axis=0)
        p = np.flatnonzero(inside)
        q = np.ravel_multi_index([m[inside] for m in moved], shape)
        diag[p] += weight
        known = index[q] < 0
        rhs[p[known]] += weight * flat[q[known]]
        rows.append(p[~known])
        cols.append(index[q[~known]])
        vals.append(np.full(int((~known).sum()), -weight))
    n = len(unknown)
    a = sp.csc_matrix((np.concatenate(vals + [diag]),
                       (np.concatenate(rows + [np.arange(n)]),
                        np.concatenate(cols + [np.arange(n)]))), shape=(n, n))
    solved = spsolve(a, rhs).reshape(n, channels)
    if noise > 0:
        if rng is None:
            raise ValueError("noise > 0 needs rng= (e.g. np.random.default_rng(seed))")
        solved = solved + rng.normal(0.0, noise, solved.shape)
    out[unknown] = solved
    return out.reshape(image.shape)


def road(model, x, maps, fractions=(0.1, 0.3, 0.5, 0.7, 0.9), target=None,
         score="probability", noise=0.01, batch_size=64, seed=0) -> dict:
    """ROAD (Rong et al. 2022): the target score after removing a fraction of the points, most
    relevant first (MoRF: a faithful map makes it fall) and least relevant first (LeRF: it
    should stay), the removed points filled by :func:`noisy_linear_impute`.

    Parameters
    ----------
    model : keras.Model
    x : array (N, H, W, C) or (N, T, C), in the model's input space.
    maps : (N, H, W) / (N, T) or x's full shape (averaged over channels); points ranked by
        decreasing value, ties in row-major order; NaN / inf are a ValueError.
    fractions : shares of the points removed, each in (0, 1) (the paper: 10 %, 20 %, ..., 90 %).
    target : None (each sample's top-1), an int or one per sample.
    score : "probability" (default) or "logit".
    noise : std of the imputation noise as a fraction of each image's value range (max − min).
    batch_size : imputed inputs per model call.
    seed : seeds the noise.

    Returns
    -------
    dict: ``"morf"`` and ``"lerf"`` (N, len(fractions)) target scores, ``"fractions"``, and the
    per-sample means over the fractions ``"morf_mean"`` (lower is better), ``"lerf_mean"``
    (higher is better) and ``"gap"`` = lerf_mean − morf_mean (higher is better).

    Cost: one sparse solve per sample, fraction and order. On a 224 × 224 image (2-core CPU)
    a solve takes about 0.35 s on average over 10 %-90 % (0.04 s at 10 %, 0.7 s at 90 %), so
    the paper's 9 fractions × 2 orders take about 7 s per sample, some 30 times the cost of
    blurred deletion / insertion with 9 steps; signals (T = 40) take milliseconds.
    """
    fr = np.asarray(fractions, np.float64)
    if fr.ndim != 1 or not len(fr) or not np.all((fr > 0) & (fr < 1)):
        raise ValueError(f"fractions must be shares of points in (0, 1), got {fractions!r}")
    x = check_batch(model, x, batch_size)
    m = spatial_maps(x, maps)
    fn = scores_fn(model, score, batch_size)
    targets = class_targets(target, fn(x))
    removed = _removal_rule(x, rank_points(m), fr, noise, np.random.default_rng(seed))
    s = masked_scores(fn, targets, len(x), 2 * len(fr), removed, batch_size)
    curves = {"morf": s[:, :len(fr)], "lerf": s[:, len(fr):]}
    morf, lerf = curves["morf"].mean(axis=1), curves["lerf"].mean(axis=1)
    return {**curves, "fractions": fr, "morf_mean": morf, "lerf_mean": lerf, "gap": lerf - morf}


def _removal_rule(x, ranks, fractions, noise, rng):
    """build(i, j) for the kernel: variant j < F removes the ``fractions[j]`` top-ranked points
    (MoRF), variant F + j the same share of the bottom-ranked ones (LeRF), imputed in pair order
    (so the seeded noise does not depend on batch_size)."""
    npts, f = ranks.shape[1], len(fractions)
    counts = np.clip(np.floor(fractions * npts + 0.5).astype(np.int64), 1, npts - 1)

    def one(i, j):
        k = counts[j % f]
        gone = ranks[i] < k if j < f else ranks[i] >= npts - k
        span = float(x[i].max() - x[i].min())
        return noisy_linear_impute(x[i], gone.reshape(spatial_shape(x)), noise * span, rng)

    return lambda i, j: np.stack([one(a, b) for a, b in zip(i, j)])
