"""Robustness of an explanation to small input changes: max-sensitivity (Yeh et al. 2019, "On
the (in)fidelity and sensitivity of explanations", NeurIPS), SENS_MAX."""
from __future__ import annotations

import numpy as np

from ._scoring import check_batch, class_targets, method_maps, run_method, scores_fn

__all__ = ["max_sensitivity"]


def _maps(out, method) -> np.ndarray:
    """(N, -1) float64 maps (IG's (attr, delta) gives attr); NaN / inf refused."""
    m = method_maps(out, method)
    return m.reshape(len(m), -1)


def max_sensitivity(model, x, method="gradcam", radius=0.02, n_perturbations=10, target=None,
                    seed=0, relative=True, **options):
    """Max-sensitivity (Yeh et al. 2019, SENS_MAX), relative to the map's norm:

        SENS_max(Φ, x) = max_{k ≤ K} ‖Φ(x + δ_k) − Φ(x)‖₂ / ‖Φ(x)‖₂,  δ_k ~ U[−r, r]^d

    the largest change of the explanation over ``n_perturbations`` (K) seeded uniform draws in
    the L∞ ball of radius r, measured with the L2 (Frobenius) norm over all map entries, and
    divided by the L2 norm of the clean map so that methods of any scale compare (Quantus'
    normalised variant; ``relative=False`` gives the paper's absolute value). Lower is better.
    The explanation of every perturbed copy is for the clean input's target.

    Parameters
    ----------
    model : keras.Model
    x : array (N, H, W, C) or (N, T, C), in the model's input space.
    method : a name of ``xai.METHODS`` or a callable ``f(model, x, target=..., **options)``.
    radius : r as a fraction of each sample's value range (max − min): 0.02 on images in
        [0, 1] is ±5 grey levels.
    n_perturbations : K, the number of perturbed copies per sample (all explained in one
        batched call of the method, so pass ``batch_size=`` in ``options``).
    target : None (each clean sample's top-1), an int or one per sample.
    seed : seeds the perturbations (the same K draws, scaled per sample, serve every sample)
        and, for a method with a ``seed`` option (RISE, SmoothGrad, ...), the method.
    relative : divide by ‖Φ(x)‖₂ (default); a zero clean map is not divided (its absolute
        change is returned, 0 when every perturbed map is zero too).
    **options : the method's options (``layer=``, ``batch_size=``, ``seed=``, ``steps=``, ...).

    Returns
    -------
    float64 (N,) ≥ 0. Maps with NaN / inf (clean or perturbed) are a ValueError naming the
    method, not a change of 0.
    """
    if isinstance(n_perturbations, bool) or not isinstance(n_perturbations, (int, np.integer)) \
            or n_perturbations < 1:
        raise ValueError(f"n_perturbations must be a positive integer, got {n_perturbations!r}")
    if not radius > 0:
        raise ValueError(f"radius must be > 0 (a fraction of each sample's value range), got "
                         f"{radius!r}")
    x = check_batch(model, x, 64)
    n, k = len(x), int(n_perturbations)
    targets = class_targets(target, scores_fn(model, "logit", 64)(x))
    run = run_method(method, options, seed)
    clean = _maps(run(model, x, targets), method)
    span = (x.reshape(n, -1).max(1) - x.reshape(n, -1).min(1)).reshape((n,) + (1,) * (x.ndim - 1))
    unit = np.random.default_rng(seed).uniform(-1.0, 1.0, (k,) + x.shape[1:]).astype(np.float32)
    noisy = (x[:, None] + radius * span[:, None] * unit[None]).reshape((n * k,) + x.shape[1:])
    moved = _maps(run(model, noisy.astype(np.float32), np.repeat(targets, k)), method)
    moved = moved.reshape(n, k, -1)
    change = np.linalg.norm(moved - clean[:, None], axis=2).max(axis=1)
    if not relative:
        return change
    norm = np.linalg.norm(clean, axis=1)
    return np.divide(change, norm, out=change.copy(), where=norm > 0)
