"""Which maps an evaluation computes: the method specs of a run (a registered method with its
options, or a callable), the explainer that turns a spec into one display map per sample, the
built-in baselines, and each method's forward / backward passes per sample (the cost column).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

BASELINES = ("random", "constant")


@dataclass(frozen=True)
class MethodSpec:
    label: str
    name: str | None  # a registered method, None for a callable or a baseline
    options: dict
    function: Callable | None = None

    def describe(self) -> dict:
        if self.function is not None:
            return {"callable": getattr(self.function, "__qualname__", repr(self.function))}
        return {"method": self.name, "options": self.options}


def method_specs(methods, seed: int) -> list[MethodSpec]:
    from ..explain import REGISTRY

    if methods is None:
        methods = list(REGISTRY)
    if not isinstance(methods, dict):
        methods = {m: m for m in methods}
    specs = []
    for label, spec in methods.items():
        if label in BASELINES:
            raise ValueError(f"{label!r} is a built-in baseline; give your method another label")
        if callable(spec):
            specs.append(MethodSpec(str(label), None, {}, spec))
            continue
        name, options = (spec, {}) if isinstance(spec, str) else spec
        if name not in REGISTRY:
            raise ValueError(f"Unknown method {name!r}. Choose one of: {', '.join(REGISTRY)}.")
        allowed = REGISTRY[name].options() + ["layer"]
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise TypeError(f"method {name!r} has no option(s) {unknown}; it accepts: "
                            f"{', '.join(allowed)}")
        own = dict(options)
        if "seed" in REGISTRY[name].options():
            own.setdefault("seed", seed)
        if "progress" in REGISTRY[name].options():
            own["progress"] = False
        specs.append(MethodSpec(str(label), name, own))
    return specs


def metric_map(result, x: np.ndarray) -> np.ndarray:
    """One map per sample, (N, H, W) / (N, T) float64: a CAM as it is, an attribution (x's
    shape) as |attribution| summed over channels; IG's ``(attr, delta)`` gives attr."""
    a = np.asarray(result[0] if isinstance(result, tuple) else result, np.float64)
    if a.shape == x.shape:
        return np.abs(a).sum(axis=-1)
    if a.shape != x.shape[:-1]:
        raise ValueError(f"a method returned shape {a.shape} for inputs {x.shape}: expected "
                         f"{x.shape[:-1]} (maps) or {x.shape} (attributions)")
    return a


def explainer(spec: MethodSpec, model) -> Callable:
    from .. import explain

    if spec.function is not None:
        return lambda x, t, **kw: metric_map(spec.function(model, x, target=t, **kw), x)
    return lambda x, t, **kw: metric_map(explain(model, x, method=spec.name, target=t,
                                                  **{**spec.options, **kw}), x)


def passes_table(model, methods=None, seed=0):
    """Forward and backward passes per sample of each method (``xai.metrics.passes``), for the
    cost column: deterministic, unlike wall time."""
    import pandas as pd

    from .. import metrics
    rows = []
    for s in method_specs(methods, seed):
        if s.name is None:
            continue
        options = {k: v for k, v in s.options.items() if k != "progress"}
        p = metrics.passes(model, s.name, target=0, **options)
        rows.append({"method": s.label, **p})
    return pd.DataFrame(rows)
