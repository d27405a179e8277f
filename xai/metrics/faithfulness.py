"""Numbers from maps: faithfulness metrics that perturb the input along a saliency ranking.

* :func:`drop_increase` (:mod:`.confidence`) -- Average Drop and Increase in Confidence
  (Chattopadhay et al. 2018, Grad-CAM++, sec. 6): keep only the most salient part of the input
  and re-score.
* :func:`deletion_auc` / :func:`insertion_auc` (:mod:`.deletion`) -- Petsiuk et al. 2018 (RISE,
  sec. 4.2): remove (or add) points in order of decreasing saliency and integrate the score
  curve.
* :func:`faithfulness` (this module) -- all of them for several maps, as tables
  (:class:`Faithfulness`), with bootstrap intervals (:func:`bootstrap_interval`).

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

from ._ranked import _means
from .confidence import drop_increase
from .deletion import deletion_auc, insertion_auc

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["drop_increase", "deletion_auc", "insertion_auc", "faithfulness",
           "combine_faithfulness", "Faithfulness", "bootstrap_interval"]


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
