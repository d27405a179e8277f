"""Average Drop and Increase in Confidence, and Average Gain: re-score inputs seen through their
explanation map.

:func:`drop_increase` (Chattopadhay et al. 2018, Grad-CAM++, sec. 6) keeps only the most
salient part of the input (or weights the input by the map) and compares the target score with
the clean one. It takes maps (from :func:`xai.explain` or anywhere else) and a model, and
returns NumPy numbers.

Map shapes. For inputs ``x`` of shape (N, H, W, C) a map is (N, H, W) and the same mask applies
to every channel; for signals (N, T, C) a map is (N, T). A map with ``x``'s full shape (an
attribution) is first reduced over channels by the mean. Points are ranked by decreasing map
value; ties keep their order of position (row-major). Maps with NaN or inf are refused.
"""
from __future__ import annotations

import numpy as np

from ._ranked import _means, _ranked_scores
from ._scoring import (
    baseline_input,
    check_batch,
    class_targets,
    masked_scores,
    on_points,
    point_order,
    scores_fn,
    spatial_maps,
)

__all__ = ["drop_increase"]


def _weighted_scores(fn, x, base, maps2d, targets, batch_size):
    """Target scores (N,) of b + m̂ ⊙ (x − b), m̂ = each map clipped at 0 and divided by its max."""
    m = np.clip(maps2d, 0.0, None)
    peak = m.max(axis=1, keepdims=True)
    m = on_points(x, np.divide(m, peak, out=np.zeros_like(m), where=peak > 0))
    return masked_scores(fn, targets, len(x), 1, lambda i, j: base[i] + m[i] * (x[i] - base[i]),
                         batch_size)[:, 0]


def drop_increase(
    model,
    x,
    maps,
    keep=None,
    target=None,
    score="probability",
    baseline=0.0,
    batch_size=64,
    blur_sigma=5.0,
    return_scores=False,
    mode="mask",
    per_sample=False,
):
    """Average Drop and Increase in Confidence (Chattopadhay et al. 2018, "Grad-CAM++", WACV,
    sec. 6): re-score ``x`` seen through its explanation map.

    With Y_i the score of the target class on ``x_i`` and O_i the score on the explained input:

        drop     = mean_i max(0, Y_i - O_i) / Y_i
        increase = mean_i [O_i > Y_i]
        gain     = mean_i max(0, O_i - Y_i) / (1 - Y_i)

    Average Gain (Zhang et al. 2023, "Opti-CAM: optimizing saliency maps for
    interpretability") is the counterpart of the drop: the relative rise of the probability
    towards 1 (a term is 0 when Y_i = 1). It is defined for probabilities only, so ``"gain"``
    is returned with ``score="probability"`` only. Lower drop, higher increase and higher gain
    mean a more faithful map. All are fractions in [0, 1] (the papers report percentages); drop
    alone rewards trivially broad maps, gain does not. Two definitions of the explained input:

    * ``mode="mask"`` (default): only the top ``keep`` fraction of points (ranked by the map) keep
      their value, the rest take ``baseline``. Binary, so maps of any scale compare fairly.
    * ``mode="multiply"``: the paper's eq.: the input multiplied point-wise by the map,
      O_i = S(b + m̂_i ⊙ (x_i − b)), with m̂_i the map clipped at 0 and divided by its maximum
      (b = 0 gives the paper's x ⊙ m̂). It rewards broad maps, so compare it with care.

    Parameters
    ----------
    model : keras.Model
    x : array (N, H, W, C) or (N, T, C)
        Inputs in the model's own input space (already preprocessed).
    maps : array (N, H, W) / (N, T), or x's full shape (averaged over channels)
    keep : float in (0, 1], optional
        ``mode="mask"`` only: fraction of points kept, ``round(keep * P)`` of the P points (at
        least one); default 0.3.
    target : None, int, or sequence of N ints
        Class scored; None means each sample's top-1 class on ``x``.
    score : "probability" (default) or "logit"
        The model's output, or the pre-softmax score (:func:`xai.scores.class_scores`). The drop
        is a relative change, so it needs positive scores: logits must all be > 0.
    baseline : float, array broadcastable to x, or "blur"
        Value of the removed points; "blur" uses a Gaussian blur of x (std ``blur_sigma`` points).
    batch_size : int
        Model batch size.
    return_scores : bool
        Also return the per-sample ``"y"`` and ``"y_kept"`` (O_i) scores.
    mode : "mask" or "multiply"
        How the map turns ``x`` into the explained input (see above).
    per_sample : bool
        Return the per-sample terms, float64 (N,) arrays max(0, Y_i − O_i) / Y_i, [O_i > Y_i]
        and max(0, O_i − Y_i) / (1 − Y_i), instead of their means.

    Returns
    -------
    dict
        ``{"drop": float, "increase": float, "gain": float}`` (no gain for logits; (N,) arrays
        with ``per_sample``; plus ``"y"``, ``"y_kept"``, ``"target"`` arrays when
        ``return_scores``).
    """
    if mode not in ("mask", "multiply"):
        raise ValueError(f"mode must be 'mask' or 'multiply', got {mode!r}")
    if mode == "multiply" and keep is not None:
        raise ValueError("keep= applies to mode='mask' only; mode='multiply' weights every point "
                         "by the map. Drop keep= or use mode='mask'.")
    keep = 0.3 if keep is None else keep
    if isinstance(keep, bool) or not isinstance(keep, (int, float, np.integer, np.floating)) \
            or not 0.0 < float(keep) <= 1.0:
        raise ValueError(f"keep must be a fraction in (0, 1], got {keep!r}")
    x = check_batch(model, x, batch_size)
    m = spatial_maps(x, maps)
    fn = scores_fn(model, score, batch_size)
    all_scores = fn(x)
    targets = class_targets(target, all_scores)
    y = all_scores[np.arange(len(x)), targets].astype(np.float64)
    if np.any(y <= 0):
        raise ValueError(
            f"drop is relative to the clean score Y, which must be > 0; {int(np.sum(y <= 0))} "
            f"sample(s) have {score} scores <= 0 (min {y.min():.4g}). Use score='probability'."
        )
    base = baseline_input(x, baseline, blur_sigma)
    if mode == "multiply":
        y_kept = _weighted_scores(fn, x, base, m, targets, batch_size)
    else:
        npts = m.shape[1]
        k = min(npts, max(1, int(np.floor(float(keep) * npts + 0.5))))
        y_kept = _ranked_scores(fn, x, base, point_order(m), [k], targets, True, batch_size)[:, 0]
    terms = _drop_terms(y, y_kept, score)
    out = terms if per_sample else _means(terms)
    if return_scores:
        out.update(y=y, y_kept=y_kept, target=targets)
    return out


def _drop_terms(y, y_kept, score) -> dict:
    """Per-sample drop max(0, Y − O)/Y, increase [O > Y] and, for probabilities, gain
    max(0, O − Y)/(1 − Y) (0 when Y = 1)."""
    out = {"drop": np.maximum(0.0, y - y_kept) / y,
           "increase": (y_kept > y).astype(np.float64)}
    if score == "probability":
        room = 1.0 - y
        rise = np.maximum(0.0, y_kept - y)
        out["gain"] = np.divide(rise, room, out=np.zeros_like(rise), where=room > 0)
    return out
