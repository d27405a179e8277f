"""Deletion and insertion AUC (Petsiuk et al. 2018, RISE, sec. 4.2): remove (or add) points in
order of decreasing saliency and integrate the target score's curve.

:func:`deletion_auc` / :func:`insertion_auc` take maps (from :func:`xai.explain` or anywhere
else) and a model, and return NumPy numbers.

Map shapes, the ranking of points and its ties are those of :mod:`.confidence`.
"""
from __future__ import annotations

import numpy as np

from ._ranked import _ranked_scores
from ._scoring import (
    baseline_input,
    check_batch,
    given_targets,
    point_order,
    scores_fn,
    spatial_maps,
)

__all__ = ["deletion_auc", "insertion_auc"]


def _curve_auc(mode, model, x, maps, steps, target, score, baseline, batch_size, blur_sigma,
               return_curves):
    x = check_batch(model, x, batch_size)
    m = spatial_maps(x, maps)
    npts = m.shape[1]
    if steps is None:
        steps = min(npts, 50)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if steps > npts:
        raise ValueError(f"steps={steps} is more than the {npts} points of each input; use at "
                         f"most steps={npts} (one point per step).")
    fn = scores_fn(model, score, batch_size)
    targets = given_targets(model, target, x, fn)
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = np.floor(fractions * npts + 0.5).astype(np.int64)
    base = baseline_input(x, baseline, blur_sigma)
    # deletion: the top `count` points take the baseline; insertion: only they show x
    curves = _ranked_scores(fn, x, base, point_order(m), counts, targets, mode == "insertion",
                            batch_size)
    auc = np.trapezoid(curves, fractions, axis=1) if hasattr(np, "trapezoid") else \
        np.trapz(curves, fractions, axis=1)
    if return_curves:
        return auc, curves, fractions
    return auc


def deletion_auc(
    model,
    x,
    maps,
    steps=None,
    target=None,
    score="probability",
    baseline=0.0,
    batch_size=64,
    blur_sigma=5.0,
    return_curves=False,
):
    """Deletion metric (Petsiuk et al. 2018, RISE, sec. 4.2): lower is better.

    Points are set to ``baseline`` in order of decreasing map value, in ``steps`` equal fractions
    of the P points; the target score is recorded at fractions 0, 1/steps, ..., 1 (the first
    point is the clean input, the last the all-baseline input) and integrated by the trapezoid
    rule over [0, 1]. A faithful map makes the score fall fast.

    Parameters
    ----------
    model, x, maps, target, score, batch_size : as in :func:`drop_increase`
        (any sign of score is fine here).
    steps : int, optional
        Number of equal fractions; default ``min(P, 50)``.
    baseline : float, array broadcastable to x, or "blur"
        Value that removed points take ("blur": Gaussian blur of x, std ``blur_sigma``).
    return_curves : bool
        Also return the curves (N, steps + 1) and the fractions (steps + 1,).

    Returns
    -------
    np.ndarray
        (N,) area under each sample's curve; or ``(auc, curves, fractions)``.
    """
    return _curve_auc("deletion", model, x, maps, steps, target, score, baseline, batch_size,
                      blur_sigma, return_curves)


def insertion_auc(
    model,
    x,
    maps,
    steps=None,
    target=None,
    score="probability",
    baseline=0.0,
    batch_size=64,
    blur_sigma=5.0,
    return_curves=False,
):
    """Insertion metric (Petsiuk et al. 2018, RISE, sec. 4.2): higher is better.

    Starts from the ``baseline`` input (Petsiuk et al. use a blurred image: ``baseline="blur"``)
    and reveals the points of x in order of decreasing map value, in ``steps`` equal fractions;
    the target score at fractions 0, 1/steps, ..., 1 is integrated by the trapezoid rule over
    [0, 1]. Parameters and returns as in :func:`deletion_auc`.
    """
    return _curve_auc("insertion", model, x, maps, steps, target, score, baseline, batch_size,
                      blur_sigma, return_curves)
