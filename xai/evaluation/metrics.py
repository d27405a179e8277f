"""The metrics :func:`xai.evaluation.evaluate` knows by name. Each is a short call of
:mod:`xai.metrics` on one shard's maps, returning per-sample values {row metric: (n,)}; which
direction is better is declared here, once, for the statistics."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Context:
    """What a metric may need besides the maps: the model, the inputs, the explained classes,
    the run's seed and each sample's own seed, the method (to re-run it, with extra options
    such as ``counterfactual=True``), regions, the method's label and the samples' ids."""
    model: object
    x: np.ndarray
    targets: np.ndarray
    seed: int
    sample_seeds: np.ndarray
    explain: Callable | None  # f(x, targets, **options) -> maps, None for a baseline map
    regions: np.ndarray | None
    label: str = ""  # the method's label in the table ("random", "constant" for baselines)
    ids: list = field(default_factory=list)


@dataclass(frozen=True)
class Metric:
    """``function(ctx, maps, **options) -> {row metric: (n,) values}``; ``higher`` gives each
    row metric's direction (True: higher is better; None: a count, not a score);
    ``reruns``: it re-runs the method (so it has no value for the baseline maps);
    ``regions``: it needs object regions from the source."""
    function: Callable
    higher: dict
    reruns: bool = False
    regions: bool = False


def _deletion(c, maps, **options):
    from .. import metrics
    return {"deletion": metrics.deletion_auc(c.model, c.x, maps, target=c.targets, **options)}


def _insertion(c, maps, **options):
    from .. import metrics
    return {"insertion": metrics.insertion_auc(c.model, c.x, maps, target=c.targets, **options)}


def _drop_increase(c, maps, **options):
    from .. import metrics
    return metrics.drop_increase(c.model, c.x, maps, target=c.targets, per_sample=True,
                                 **options)


def _mufidelity(c, maps, **options):
    from .. import metrics
    return {"mufidelity": metrics.mufidelity(c.model, c.x, maps, target=c.targets, seed=c.seed,
                                             **options)}


def _max_sensitivity(c, maps, **options):
    from .. import metrics
    return {"max_sensitivity": metrics.max_sensitivity(
        c.model, c.x, lambda model, x, target: c.explain(x, target), target=c.targets,
        seed=c.seed, **options)}


def _pointing_game(c, maps, **options):
    from .. import metrics
    hit, flat = metrics.pointing_game(maps, c.regions, return_flat=True, **options)
    return {"pointing_game": hit.astype(np.float64), "flat_map": flat.astype(np.float64)}


def _masked_reclassification(c, maps, **options):
    from .. import metrics
    out = metrics.masked_reclassification(c.model, c.x, maps, seeds=c.sample_seeds,
                                          progress=False, **options)
    return {f"masked_{k}": v for k, v in out.items()}


def _energy_share(c, maps, **options):
    from .. import metrics
    return {"energy_share": metrics.energy_share(maps, c.regions, **options)}


def _runner_up(c) -> tuple:
    """Each sample's most probable class other than its explained one, and its probability."""
    from .. import scores
    p = scores.class_scores(c.model, c.x, "probability")
    rows = np.arange(len(p))
    others = p.copy()
    others[rows, c.targets] = -np.inf
    second = others.argmax(axis=1)
    return second, p[rows, second]


def _other_maps(c, classes, purpose: int, **options) -> np.ndarray:
    """The method's maps for other ``classes``. The baselines' rule: the constant map is the
    same for every class (a class-agnostic map), the random map an independent draw (seeded
    by the sample's id and ``purpose``: chance overlap)."""
    if c.explain is not None:
        return c.explain(c.x, classes, **options)
    spatial = c.x.shape[1:-1]
    if c.label == "constant":
        return np.ones((len(c.x), *spatial))
    if c.label == "random":
        from .engine import random_maps
        return random_maps(c.ids, spatial, c.seed, purpose)
    raise ValueError(f"no rule for the maps of other classes of baseline {c.label!r}")


def _class_separation(c, maps, fraction=0.2):
    from .. import metrics
    second, p2 = _runner_up(c)
    other = _other_maps(c, second, 3)
    return {"top2_iou": metrics.top_iou(maps, other, fraction, positive=True),
            "top2_peak_distance": metrics.peak_distance(maps, other),
            "top2_rank_correlation": metrics.spearman(maps, other),
            "runner_up": second.astype(np.float64), "runner_up_probability": p2}


def _counterfactual(c, maps, fraction=0.2):
    from .. import metrics
    second, _ = _runner_up(c)
    against = _other_maps(c, c.targets, 4, counterfactual=True)
    empty = ~(against.reshape(len(against), -1) > 0).any(axis=1)
    iou = metrics.top_iou(against, _other_maps(c, second, 3), fraction, positive=True)
    return {"counterfactual_empty": empty.astype(np.float64),
            "counterfactual_iou": np.where(empty, np.nan, iou)}


#: every metric the engine knows, by the name given to ``evaluate(metrics=...)``
METRICS: dict[str, Metric] = {
    "deletion": Metric(_deletion, {"deletion": False}),
    "insertion": Metric(_insertion, {"insertion": True}),
    "drop_increase": Metric(_drop_increase, {"drop": False, "increase": True, "gain": True}),
    "mufidelity": Metric(_mufidelity, {"mufidelity": True}),
    "max_sensitivity": Metric(_max_sensitivity, {"max_sensitivity": False}, reruns=True),
    "pointing_game": Metric(_pointing_game, {"pointing_game": True, "flat_map": None},
                            regions=True),
    "energy_share": Metric(_energy_share, {"energy_share": True}, regions=True),
    "masked_reclassification": Metric(_masked_reclassification, {
        "masked_area": None, "masked_kept": True, "masked_drop": False,
        "masked_kept_random": True, "masked_drop_random": False, "masked_kept_centre": True,
        "masked_drop_centre": False}),
    # the maps of the top-1 and the runner-up class: lower overlap = more class-discriminative;
    # the rank correlation compares whole maps, not only their top regions
    "class_separation": Metric(_class_separation, {
        "top2_iou": False, "top2_peak_distance": True, "top2_rank_correlation": False,
        "runner_up": None,
        "runner_up_probability": None}),
    # the top-1 map with negated gradients (gradient CAMs): empty?, and its overlap with the
    # runner-up's map (NaN when empty: an empty map has no region)
    "counterfactual": Metric(_counterfactual, {"counterfactual_empty": False,
                                               "counterfactual_iou": True}),
}


def register_metric(name: str, function: Callable, higher: dict, reruns=False, regions=False):
    """Make ``evaluate(metrics=[name])`` call ``function(ctx, maps, **options)``."""
    METRICS[name] = Metric(function, dict(higher), reruns, regions)


def higher_is_better(table=None) -> dict:
    """{row metric: True if higher is better} for every directional row metric (those of
    ``table`` only, when given); counts such as ``flat_map`` are left out."""
    out = {k: v for m in METRICS.values() for k, v in m.higher.items() if v is not None}
    if table is not None:
        present = set(table["metric"])
        out = {k: v for k, v in out.items() if k in present}
    return out
