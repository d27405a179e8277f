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
value; ties keep their order of position (row-major). Maps with NaN or inf are refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._scoring import (baseline_input, check_batch, class_targets, given_targets, masked_scores,
                       on_points, point_order, scores_fn, spatial_maps)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["drop_increase", "deletion_auc", "insertion_auc", "faithfulness",
           "combine_faithfulness", "Faithfulness", "bootstrap_interval"]


def _per_point(a: np.ndarray, npts: int) -> np.ndarray:
    """A contiguous input as ``npts`` opaque items, each one point's channels: fancy indexing
    then copies a point at a time, not a value at a time."""
    item = np.dtype((np.void, a.itemsize * (a.size // npts)))
    return a.reshape(npts, -1).view(item).reshape(npts)


def _ranked_scores(fn, x, base, order, counts, targets, keep, batch_size):
    """Target scores (N, len(counts)) of copy (i, j) of x[i] showing x on the ``counts[j]``
    top-ranked points (``order``: :func:`point_order`) and ``base`` elsewhere (``keep``), or
    the reverse (selection by mask).

    A copy holds exactly the values of ``np.where(rank < count, top, rest)``, built by index:
    from the sample's previous copy in the batch plus its newly added points, else from the
    source with more points plus the other source's points."""
    counts = np.asarray(counts, np.int64)
    npts = order.shape[1]
    top, rest = (x, base) if keep else (base, x)
    dtype = np.result_type(x.dtype, base.dtype)

    def build(i, j):
        out = np.empty((len(i),) + x.shape[1:], dtype)
        for k, (s, c) in enumerate(zip(i, counts[j])):
            prev = counts[j[k - 1]] if k and i[k - 1] == s else npts + 1
            if prev <= c:
                out[k], points, src = out[k - 1], order[s, prev:c], top[s]
            elif c <= npts - c:
                out[k], points, src = rest[s], order[s, :c], top[s]
            else:
                out[k], points, src = top[s], order[s, c:], rest[s]
            _per_point(out[k], npts)[points] = _per_point(
                np.ascontiguousarray(src, dtype), npts)[points]
        return out

    return masked_scores(fn, targets, len(x), len(counts), build, batch_size)


def _weighted_scores(fn, x, base, maps2d, targets, batch_size):
    """Target scores (N,) of b + m̂ ⊙ (x − b), m̂ = each map clipped at 0 and divided by its max."""
    m = np.clip(maps2d, 0.0, None)
    peak = m.max(axis=1, keepdims=True)
    m = on_points(x, np.divide(m, peak, out=np.zeros_like(m), where=peak > 0))
    return masked_scores(fn, targets, len(x), 1, lambda i, j: base[i] + m[i] * (x[i] - base[i]),
                         batch_size)[:, 0]


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


def _means(terms: dict) -> dict:
    return {name: float(np.mean(v)) for name, v in terms.items()}


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


# --------------------------------------------------------------------------------------------
# Deletion / insertion
# --------------------------------------------------------------------------------------------


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


def _drop_row(model, x, maps, row: dict, boot: dict, samples: dict, suffix: str,
              **options) -> dict:
    """``row`` plus the mean drop, increase (and gain) of :func:`drop_increase` on ``maps``, with
    the intervals of drop and increase; the per-sample terms go to ``samples`` as
    ``"<term><suffix>"``."""
    terms = drop_increase(model, x, maps, per_sample=True, **options)
    samples.update({f"{name}{suffix}": v for name, v in terms.items()})
    return _with_intervals({**row, **_means(terms), "n": len(x)},
                           {name: terms[name] for name in ("drop", "increase")}, **boot)


def _long(method: str, samples: dict) -> "pd.DataFrame":
    """{metric: per-sample values} of one method as rows sample, method, metric, value."""
    import pandas as pd
    return pd.concat([pd.DataFrame({"sample": np.arange(len(v)), "method": method,
                                    "metric": metric, "value": np.asarray(v, np.float64)})
                      for metric, v in samples.items()], ignore_index=True)


@dataclass
class Faithfulness:
    """Every faithfulness number for several maps of the same inputs, as pandas tables.

    ``drop_increase``: one row per (method, keep) (mode="mask"); ``multiply``: one row per
    method (mode="multiply"); ``auc``: deletion and insertion AUC per method; with ``ci``, each
    mean has ``_lo`` / ``_hi`` bootstrap interval columns. ``samples``: every per-sample score
    as a long table (``sample`` = position in ``x``, ``method``, ``metric`` named as the
    columns of :meth:`wide` or ``deletion_auc`` / ``insertion_auc``, ``value``), the input of
    :func:`xai.stats.summarise` (paired comparisons, see :meth:`summary`). Extra key columns
    (e.g. ``model``) come first when results are combined with :func:`combine_faithfulness`.
    """
    drop_increase: "pd.DataFrame"
    multiply: "pd.DataFrame"
    auc: "pd.DataFrame"
    ci: float | None = None  # level of the ``_lo`` / ``_hi`` bootstrap columns, if any
    samples: "pd.DataFrame | None" = None

    @property
    def higher_is_better(self) -> dict:
        """Direction of every metric of :attr:`samples`: drop and deletion lower, else higher."""
        return {m: not m.startswith(("drop", "deletion"))
                for m in self.samples["metric"].unique()}

    def summary(self, baselines=("random", "constant"), **options) -> "pd.DataFrame":
        """:func:`xai.stats.summarise` of :attr:`samples`, per key (e.g. model): each method's
        mean, interval and paired comparison with the ``baselines`` maps (Holm per key)."""
        from ..stats import summarise
        if self.samples is None:
            raise ValueError("no per-sample scores: this result was built by hand, not by "
                             "faithfulness()")
        return summarise(self.samples, self.higher_is_better, by=self.keys()[:-1],
                         baselines=baselines, **options)

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
        """drop_increase.csv / _multiply.csv / deletion_insertion.csv and two Markdown tables;
        with per-sample scores and both baselines among the maps, also the paired comparisons
        of :meth:`summary` (paired.csv, paired.md)."""
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
        if self.samples is not None and {"random", "constant"} <= set(self.samples["method"]):
            self._save_summary(out, study, n, items)

    def _save_summary(self, out, study: str, n: int, items: str) -> None:
        from ..stats import LEGEND, format_summary
        summary = self.summary()
        summary.to_csv(out / "paired.csv", index=False, float_format="%.6g")
        (out / "paired.md").write_text(
            f"# {study}: every faithfulness score, paired with the random and constant maps "
            f"({n} {items})\n\n{LEGEND}\n\n"
            + format_summary(summary).to_markdown(index=False) + "\n")


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
    rows, multiply, auc, samples = [], [], [], []
    for method, m in maps.items():
        per_sample: dict = {}
        rows += [_drop_row(model, x, m, {"method": method, "keep": k}, boot, per_sample,
                           f" @ keep {k:.0%}", keep=k, **common) for k in keeps]
        multiply.append(_drop_row(model, x, m, {"method": method}, boot, per_sample, " × map",
                                  mode="multiply", **common))
        deletion = deletion_auc(model, x, m, steps, **common)
        insertion = insertion_auc(model, x, m, steps, **common)
        samples.append(_long(method, {**per_sample, "deletion_auc": deletion,
                                      "insertion_auc": insertion}))
        auc.append(_with_intervals({"method": method, "deletion_auc": float(deletion.mean()),
                                    "insertion_auc": float(insertion.mean()),
                                    "steps": steps, "n": len(x)},
                                   {"deletion_auc": deletion, "insertion_auc": insertion},
                                   **boot))
    return Faithfulness(pd.DataFrame(rows), pd.DataFrame(multiply), pd.DataFrame(auc), ci,
                        pd.concat(samples, ignore_index=True))


def combine_faithfulness(results: dict, key: str = "model") -> Faithfulness:
    """Stack several :class:`Faithfulness` ({name: result}) with a first column ``key``."""
    import pandas as pd

    def stack(part):
        return pd.concat([getattr(r, part).assign(**{key: name}) for name, r in results.items()],
                         ignore_index=True).pipe(lambda d: d[[key, *d.columns[:-1]]])
    cis = {r.ci for r in results.values()}
    samples = (stack("samples") if all(r.samples is not None for r in results.values())
               else None)
    return Faithfulness(stack("drop_increase"), stack("multiply"), stack("auc"),
                        cis.pop() if len(cis) == 1 else None, samples)
