"""What a method costs: wall time per sample (measured) and model passes per sample (counted
from the method's options, checked in the tests against a layer that counts the samples it
sees forwards and backwards)."""
from __future__ import annotations

import time

import numpy as np

__all__ = ["passes", "cost"]


def _method(method: str):
    from ..explain import REGISTRY

    if method not in REGISTRY:
        raise ValueError(f"Unknown method {method!r}. Choose one of: {', '.join(REGISTRY)}.")
    return REGISTRY[method]


def passes(model, method: str, target=None, **options) -> dict:
    """Forward and backward passes of ``model`` per explained sample for
    ``xai.explain(model, x, method, target=target, **options)``.

    A forward pass is one input through the network; a backward pass one gradient of the
    score (to the input, or to the CAM layer). Per method (n = noisy copies, steps = IG nodes,
    K = channels of the CAM layer, +1 forward for the top-1 when ``target`` is None and the
    method pins it):

    ======================================  ==================  ==========
    method                                  forward             backward
    ======================================  ==================  ==========
    gradcam, gradcam++, xgradcam, ...       1                   1
    eigencam                                1                   0
    saliency, guided_backprop               1                   1
    guided_gradcam                          2 (+1)              2
    smoothgrad, smooth_gradcam++            n (+1)              n
    integrated_gradients                    steps + 2           steps
    scorecam                                1 + K               0
    rise                                    n_masks (+1)        0
    sise (upper bound)                      L + Σ_l K_l (+1)    L
    ======================================  ==================  ==========

    Returns
    -------
    dict ``{"forward": int, "backward": int, "exact": bool}``; ``exact`` is False for SISE
    (only channels with a positive mean gradient are masked: an upper bound) and for IG with
    ``steps="auto"`` (the count of its first round, 32 steps: a lower bound). Each method's
    count is part of its registration (``xai.METHODS[name].passes``).
    """
    return _method(method).passes(model, target=target, **options)


def cost(model, x, method: str, target=None, repeats: int = 3, **options) -> dict:
    """Wall time per sample of ``xai.explain(model, x, method, target=target, **options)``:
    one warm-up call first (tracing and caches excluded), then the median of ``repeats``
    calls, divided by len(x); with the :func:`passes` counts.

    Returns
    -------
    dict ``{"method", "n", "seconds_per_sample", "forward", "backward", "exact"}``.
    """
    from .. import explain

    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    count = passes(model, method, target=target, **options)
    options = {"progress": False, **options} if "progress" in _method(method).options() else options
    explain(model, x, method=method, target=target, **options)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        explain(model, x, method=method, target=target, **options)
        times.append(time.perf_counter() - start)
    return {"method": method, "n": len(x),
            "seconds_per_sample": float(np.median(times)) / len(x), **count}
