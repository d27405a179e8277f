"""Numbers from maps: faithfulness metrics that perturb the input along a saliency ranking.

* :func:`drop_increase` -- Average Drop and Increase in Confidence (Chattopadhay et al. 2018,
  Grad-CAM++, sec. 6): keep only the most salient part of the input and re-score.
* :func:`deletion_auc` / :func:`insertion_auc` -- Petsiuk et al. 2018 (RISE, sec. 4.2): remove
  (or add) points in order of decreasing saliency and integrate the score curve.
* :func:`faithfulness` -- all of them for several maps, as tables (:class:`Faithfulness`).

These functions never compute explanations: they take maps (from :func:`xai.explain` or
anywhere else) and a model, and return NumPy numbers.

Map shapes. For inputs ``x`` of shape (N, H, W, C) a map is (N, H, W) and the same mask applies
to every channel; for signals (N, T, C) a map is (N, T). A map with ``x``'s full shape (an
attribution) is first reduced over channels by the mean. Points are ranked by decreasing map
value; ties keep their order of position (row-major), NaN ranks last.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["drop_increase", "deletion_auc", "insertion_auc", "faithfulness",
           "combine_faithfulness", "Faithfulness", "bootstrap_interval"]


# --------------------------------------------------------------------------------------------
# shared machinery
# --------------------------------------------------------------------------------------------


def _spatial_maps(x: np.ndarray, maps) -> np.ndarray:
    """Validate ``maps`` against ``x`` and return float (N, P) maps over the P spatial points."""
    maps = np.asarray(maps, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"x must be a batch (N, ...) of inputs; got shape {x.shape}")
    if x.ndim >= 3 and maps.shape == x.shape:
        maps = maps.mean(axis=-1)  # attribution with channels: one value per point
    spatial = x.shape[:-1] if x.ndim >= 3 else x.shape
    if maps.shape != spatial:
        raise ValueError(
            f"maps of shape {maps.shape} do not fit x of shape {x.shape}: expected {spatial} "
            f"(one value per point, shared by the channels) or {x.shape} (reduced by the mean "
            "over channels)"
        )
    return maps.reshape(len(x), -1)


def _ranks(maps2d: np.ndarray) -> np.ndarray:
    """rank[i, p] = position of point p when sample i's points are sorted by decreasing value."""
    m = np.where(np.isnan(maps2d), -np.inf, maps2d)
    order = np.argsort(-m, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(m.shape[1])[None, :], axis=1)
    return ranks.astype(np.int32)


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    # blur along the spatial axes only (not samples, not channels)
    sig = [0.0] + [float(sigma)] * (x.ndim - 2) + [0.0] if x.ndim >= 3 else [0.0, float(sigma)]
    return gaussian_filter(x, sigma=sig, mode="reflect").astype(np.float32)


def _baseline(x: np.ndarray, baseline, blur_sigma: float) -> np.ndarray:
    if isinstance(baseline, str):
        if baseline != "blur":
            raise ValueError(f"baseline must be a number, an array or 'blur'; got {baseline!r}")
        return _blur(x, blur_sigma)
    b = np.asarray(baseline, np.float32)
    try:
        return np.broadcast_to(b, x.shape)
    except ValueError:
        raise ValueError(
            f"baseline of shape {b.shape} does not broadcast to x of shape {x.shape}"
        ) from None


def _scores_fn(model, score: str, batch_size: int):
    from .. import scores

    scores.check_score(score)

    def fn(xb):
        return scores.class_scores(model, xb, score=score, batch_size=batch_size)

    return fn


def _targets(target, all_scores: np.ndarray) -> np.ndarray:
    from .. import scores

    n, num_classes = all_scores.shape
    t = scores.resolve_targets(target, n, num_classes)
    return np.where(t < 0, np.argmax(all_scores, axis=1), t).astype(np.int64)


def _perturbed_scores(fn, x, base, ranks, counts, targets, mode, batch_size):
    """Target scores of perturbed copies of x, shape (N, len(counts)).

    Copy (i, j) shows x[i] on the ``counts[j]`` top-ranked points and ``base[i]`` elsewhere
    (mode "keep"), or the reverse (mode "remove"). Copies are built and scored ``batch_size``
    at a time, so memory does not grow with N or the number of steps.
    """
    n, s = len(x), len(counts)
    counts = np.asarray(counts, np.int64)
    shape = x.shape[1:-1] if x.ndim >= 3 else x.shape[1:]
    out = np.empty(n * s, np.float64)
    pairs = np.arange(n * s)
    for start in range(0, n * s, batch_size):
        p = pairs[start : start + batch_size]
        i, j = p // s, p % s
        top = ranks[i] < counts[j][:, None]  # (B, P): the top-ranked points of each copy
        top = top.reshape(len(p), *shape)
        if x.ndim >= 3:
            top = top[..., None]
        xb = np.where(top, x[i], base[i]) if mode == "keep" else np.where(top, base[i], x[i])
        out[start : start + len(p)] = fn(xb.astype(np.float32))[np.arange(len(p)), targets[i]]
    return out.reshape(n, s)


def _weighted_scores(fn, x, base, maps2d, targets, batch_size):
    """Target scores of b + m̂ ⊙ (x − b), m̂ = each map clipped at 0 and divided by its max."""
    m = np.clip(np.nan_to_num(maps2d, nan=0.0), 0.0, None)
    peak = m.max(axis=1, keepdims=True)
    m = np.divide(m, peak, out=np.zeros_like(m), where=peak > 0)
    m = m.reshape((len(x),) + (x.shape[1:-1] if x.ndim >= 3 else x.shape[1:]))
    if x.ndim >= 3:
        m = m[..., None]
    out = np.empty(len(x), np.float64)
    for start in range(0, len(x), batch_size):
        s = slice(start, start + batch_size)
        xb = (base[s] + m[s] * (x[s] - base[s])).astype(np.float32)
        out[s] = fn(xb)[np.arange(len(xb)), targets[s]]
    return out


def _check_batch(model, x, batch_size):
    """x checked like xai.explain's input (rank, channels, size, NaN, empty), and batch_size."""
    from .._batching import check_batch_size
    from ..explain import check_input

    check_batch_size(batch_size)
    return check_input(model, x)


# --------------------------------------------------------------------------------------------
# Average Drop / Increase in Confidence
# --------------------------------------------------------------------------------------------


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

    Returns
    -------
    dict
        ``{"drop": float, "increase": float, "gain": float}`` (no gain for logits; plus ``"y"``,
        ``"y_kept"``, ``"target"`` arrays when ``return_scores``).
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
    x = _check_batch(model, x, batch_size)
    m = _spatial_maps(x, maps)
    fn = _scores_fn(model, score, batch_size)
    all_scores = fn(x)
    targets = _targets(target, all_scores)
    y = all_scores[np.arange(len(x)), targets].astype(np.float64)
    if np.any(y <= 0):
        raise ValueError(
            f"drop is relative to the clean score Y, which must be > 0; {int(np.sum(y <= 0))} "
            f"sample(s) have {score} scores <= 0 (min {y.min():.4g}). Use score='probability'."
        )
    base = _baseline(x, baseline, blur_sigma)
    if mode == "multiply":
        y_kept = _weighted_scores(fn, x, base, m, targets, batch_size)
    else:
        npts = m.shape[1]
        k = min(npts, max(1, int(np.floor(float(keep) * npts + 0.5))))
        y_kept = _perturbed_scores(fn, x, base, _ranks(m), [k], targets, "keep", batch_size)[:, 0]
    out = {
        "drop": float(np.mean(np.maximum(0.0, y - y_kept) / y)),
        "increase": float(np.mean(y_kept > y)),
    }
    if score == "probability":
        room = 1.0 - y
        rise = np.maximum(0.0, y_kept - y)
        out["gain"] = float(np.mean(np.divide(rise, room, out=np.zeros_like(rise),
                                              where=room > 0)))
    if return_scores:
        out.update(y=y, y_kept=y_kept, target=targets)
    return out


# --------------------------------------------------------------------------------------------
# Deletion / insertion
# --------------------------------------------------------------------------------------------


def _curve_auc(mode, model, x, maps, steps, target, score, baseline, batch_size, blur_sigma,
               return_curves):
    x = _check_batch(model, x, batch_size)
    m = _spatial_maps(x, maps)
    npts = m.shape[1]
    if steps is None:
        steps = min(npts, 50)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if steps > npts:
        raise ValueError(f"steps={steps} is more than the {npts} points of each input; use at "
                         f"most steps={npts} (one point per step).")
    fn = _scores_fn(model, score, batch_size)
    targets = _targets(target, fn(x))
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = np.floor(fractions * npts + 0.5).astype(np.int64)
    base = _baseline(x, baseline, blur_sigma)
    # deletion: the top `count` points take the baseline; insertion: only they show x
    curves = _perturbed_scores(fn, x, base, _ranks(m), counts, targets,
                               "remove" if mode == "deletion" else "keep", batch_size)
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


# --------------------------------------------------------------------------------------------
# one table of every metric for several maps
# --------------------------------------------------------------------------------------------


def bootstrap_interval(values, ci=0.95, n_boot=1000, seed=0):
    """Percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13) of the mean over samples.

    ``values`` (N,) per-sample scores; ``n_boot`` resamples of N samples drawn with replacement
    (seeded); returns (lo, hi), the (1 − ci)/2 and (1 + ci)/2 quantiles of the resampled means.
    The draws depend only on N, ``n_boot`` and ``seed``, so scores of several methods on the same
    samples are resampled alike (paired).
    """
    values = np.asarray(values, np.float64).ravel()
    if isinstance(ci, bool) or not isinstance(ci, (float, np.floating)) or not 0 < ci < 1:
        raise ValueError(f"ci must be a confidence level in (0, 1), e.g. 0.95; got {ci!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer (e.g. 1000), got {n_boot!r}")
    if len(values) == 0 or not np.isfinite(values).all():
        raise ValueError("bootstrap needs at least one sample and finite scores")
    idx = np.random.default_rng(seed).integers(0, len(values), (int(n_boot), len(values)))
    lo, hi = np.quantile(values[idx].mean(axis=1), [(1 - ci) / 2, (1 + ci) / 2])
    return float(lo), float(hi)


def _with_intervals(row: dict, per_sample: dict, ci, n_boot, seed) -> dict:
    """``row`` plus ``<name>_lo`` / ``<name>_hi`` for each per-sample score when ``ci`` is set."""
    if ci is not None:
        for name, v in per_sample.items():
            row[f"{name}_lo"], row[f"{name}_hi"] = bootstrap_interval(v, ci, n_boot, seed)
    return row


def _drop_and_increase(r: dict) -> dict:
    """Per-sample drop max(0, Y − O)/Y and increase [O > Y] of a ``return_scores`` result."""
    return {"drop": np.maximum(0.0, r["y"] - r["y_kept"]) / r["y"],
            "increase": (r["y_kept"] > r["y"]).astype(np.float64)}


@dataclass
class Faithfulness:
    """Every faithfulness number for several maps of the same inputs, as pandas tables.

    ``drop_increase``: one row per (method, keep) (mode="mask"); ``multiply``: one row per
    method (mode="multiply"); ``auc``: deletion and insertion AUC per method; with ``ci``, each
    mean has ``_lo`` / ``_hi`` bootstrap interval columns. Extra key columns
    (e.g. ``model``) come first when results are combined with :func:`combine_faithfulness`.
    """
    drop_increase: "pd.DataFrame"
    multiply: "pd.DataFrame"
    auc: "pd.DataFrame"
    ci: float | None = None  # level of the ``_lo`` / ``_hi`` bootstrap columns, if any

    def keys(self) -> list[str]:
        return [c for c in self.auc.columns
                if c not in ("deletion_auc", "insertion_auc", "steps", "n")
                and not c.endswith(("_lo", "_hi"))]

    def wide(self) -> "pd.DataFrame":
        """One row per method: drop, increase (and gain) at each keep, then the ``× map`` ones."""
        keys = self.keys()
        values = [v for v in ("drop", "increase", "gain") if v in self.drop_increase]
        wide = self.drop_increase.pivot_table(index=keys, columns="keep",
                                              values=values, sort=False)
        wide.columns = [f"{v} @ keep {k:.0%}" for v, k in wide.columns]
        return wide.join(self.multiply.set_index(keys)[values]
                         .add_suffix(" × map")).reset_index()

    def intervals(self) -> "pd.DataFrame":
        """drop and increase per (method, keep) as "mean [lo, hi]" text (needs ``ci``)."""
        d = self.drop_increase.copy()
        for v in ("drop", "increase"):
            d[v] = [f"{m:.3f} [{lo:.3f}, {hi:.3f}]"
                    for m, lo, hi in zip(d[v], d[f"{v}_lo"], d[f"{v}_hi"])]
        return d[[*self.keys(), "keep", "drop", "increase"]]

    def _intervals_md(self, n: int, items: str) -> str:
        if self.ci is None:
            return ""
        return (f"\n## {self.ci:.0%} bootstrap intervals over the {n} {items}\n\n"
                + self.intervals().to_markdown(index=False) + "\n")

    def save(self, out, study: str, items: str, removed) -> None:
        """drop_increase.csv / _multiply.csv / deletion_insertion.csv and two Markdown tables."""
        from pathlib import Path
        out, n, steps = Path(out), int(self.auc["n"].iloc[0]), int(self.auc["steps"].iloc[0])
        self.drop_increase.to_csv(out / "drop_increase.csv", index=False)
        self.multiply.to_csv(out / "drop_increase_multiply.csv", index=False)
        self.auc.to_csv(out / "deletion_insertion.csv", index=False)
        (out / "drop_increase.md").write_text(
            f"# {study}: Average Drop / Increase in Confidence ({n} {items}, probability of the "
            f"predicted class, removed points = {removed})\n\n`keep k%`: only the top k % of the "
            "points kept (mode='mask'); `× map`: the input multiplied by the map scaled to "
            "[0, 1], towards the same removed value (mode='multiply', the Grad-CAM++ paper's "
            "definition).\n\n" + self.wide().to_markdown(index=False, floatfmt=".3f") + "\n"
            + self._intervals_md(n, items))
        (out / "deletion_insertion.md").write_text(
            f"# {study}: deletion (lower is better) and insertion (higher is better) AUC ({n} "
            f"{items}, {steps} steps, removed points = {removed})\n\n"
            + (f"`_lo` / `_hi`: {self.ci:.0%} bootstrap interval of the mean over the {items}."
               "\n\n" if self.ci is not None else "")
            + self.auc.to_markdown(index=False, floatfmt=".3f") + "\n")


def _gain(r: dict) -> dict:
    """The Average Gain column when :func:`drop_increase` computed it (probabilities only)."""
    return {"gain": r["gain"]} if "gain" in r else {}


def faithfulness(model, x, maps: dict, keeps=(0.1, 0.3, 0.5, 0.9), auc_steps=None,
                 score="probability", baseline=0.0, blur_sigma=5.0,
                 batch_size=64, ci=None, n_boot=1000, seed=0) -> Faithfulness:
    """:func:`drop_increase` (drop, increase and, for probabilities, gain) at each ``keeps``
    (mode="mask") and with mode="multiply", and the mean :func:`deletion_auc` /
    :func:`insertion_auc` (``auc_steps``), for every map in ``maps`` ({method name: maps}), on
    each sample's top-1 class.

    ``ci`` (e.g. 0.95) adds ``<metric>_lo`` / ``<metric>_hi`` columns for drop, increase and the
    AUCs: the percentile bootstrap interval of each mean over the samples
    (:func:`bootstrap_interval`, ``n_boot`` resamples, seeded by ``seed``; the same resamples
    for every method and metric)."""
    import pandas as pd
    common = dict(score=score, baseline=baseline, blur_sigma=blur_sigma, batch_size=batch_size)
    boot = dict(ci=ci, n_boot=n_boot, seed=seed)
    if ci is not None:
        bootstrap_interval([0.0], **boot)  # check ci and n_boot before any model pass
    points = int(np.prod(np.shape(x)[1:-1])) if np.ndim(x) >= 3 else int(np.shape(x)[1])
    steps = int(auc_steps) if auc_steps is not None else min(points, 50)
    rows, multiply, auc = [], [], []
    for method, m in maps.items():
        for k in keeps:
            r = drop_increase(model, x, m, keep=k, return_scores=True, **common)
            rows.append(_with_intervals({"method": method, "keep": k, "drop": r["drop"],
                                         "increase": r["increase"], **_gain(r), "n": len(x)},
                                        _drop_and_increase(r), **boot))
        r = drop_increase(model, x, m, mode="multiply", return_scores=True, **common)
        multiply.append(_with_intervals({"method": method, "drop": r["drop"],
                                         "increase": r["increase"], **_gain(r), "n": len(x)},
                                        _drop_and_increase(r), **boot))
        deletion = deletion_auc(model, x, m, steps, **common)
        insertion = insertion_auc(model, x, m, steps, **common)
        auc.append(_with_intervals({"method": method, "deletion_auc": float(deletion.mean()),
                                    "insertion_auc": float(insertion.mean()),
                                    "steps": steps, "n": len(x)},
                                   {"deletion_auc": deletion, "insertion_auc": insertion},
                                   **boot))
    return Faithfulness(pd.DataFrame(rows), pd.DataFrame(multiply), pd.DataFrame(auc), ci)


def combine_faithfulness(results: dict, key: str = "model") -> Faithfulness:
    """Stack several :class:`Faithfulness` ({name: result}) with a first column ``key``."""
    import pandas as pd

    def stack(part):
        return pd.concat([getattr(r, part).assign(**{key: name}) for name, r in results.items()],
                         ignore_index=True).pipe(lambda d: d[[key, *d.columns[:-1]]])
    cis = {r.ci for r in results.values()}
    return Faithfulness(stack("drop_increase"), stack("multiply"), stack("auc"),
                        cis.pop() if len(cis) == 1 else None)
