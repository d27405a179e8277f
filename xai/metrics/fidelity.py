"""Correlation-type faithfulness: MuFidelity (Bhatt et al. 2020, "Evaluating and aggregating
feature-based model explanations", IJCAI 2020), faithfulness μ_F:

A map is faithful when the attribution it gives to any set S of features predicts how much the
score falls when S is removed:

    μ_F(f, φ; x) = corr_{S ⊂ features, |S| = k} ( Σ_{i ∈ S} φ_i ,  f(x) − f(x_[x_S = b_S]) )

The features are the cells of a coarse grid over the image (or signal), as in xplique and
Quantus: single pixels change the score too little to measure. The cells are equal in size:
with unequal cells a set's pixel area tracks both its mass under a constant map and the score
drop, so a constant map would score well above 0.
"""
from __future__ import annotations

import numpy as np

from ._scoring import (
    baseline_input,
    check_batch,
    class_targets,
    masked_scores,
    on_points,
    pearson_rows,
    scores_fn,
    spatial_maps,
    spatial_shape,
)

__all__ = ["mufidelity", "grid_cells"]


def grid_cells(shape, grid="auto") -> np.ndarray:
    """Cell index of every point of a (H, W) or (T,) map split into equal cells, int (P,) in
    row-major order.

    ``grid``: cells per side, which must divide every side (cells of unequal size would give a
    set of cells a map mass that tracks its area); "auto" takes for each side its largest
    divisor <= 9 (224 → 8, 150 → 6, 40 → 8).
    """
    grids = _grid(tuple(shape), grid)
    parts = [np.arange(n) // (n // g) for n, g in zip(shape, grids)]  # cell of each row / column
    return np.ravel_multi_index(np.meshgrid(*parts, indexing="ij"), grids).ravel()


def _grid(shape: tuple, grid) -> tuple:
    """Cells per side for ``grid`` (see :func:`grid_cells`), at least two cells in all."""
    valid = [d for d in range(2, 17) if all(n % d == 0 for n in shape)]
    if isinstance(grid, str) and grid == "auto":
        grids = tuple(max(d for d in range(1, 10) if n % d == 0) for n in shape)
        if np.prod(grids) < 2:
            raise ValueError(f"grid='auto' finds no divisor from 2 to 9 of the sides of the map "
                             f"{shape}; give a grid that divides every side: one of {valid}")
        return grids
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 1:
        raise ValueError(f"grid must be 'auto' or a positive integer (cells per side), got "
                         f"{grid!r}")
    if any(n % grid for n in shape):
        raise ValueError(f"grid={grid} does not divide the map {shape} into equal cells (unequal "
                         "cells bias MuFidelity: a constant map would score above 0); use "
                         f"grid='auto' or one of {valid} (the divisors of every side up to 16)")
    return (int(grid),) * len(shape)


def _subsets(rng, n_subsets: int, cells: int, fraction: float) -> np.ndarray:
    """(n_subsets, cells) bool: each row marks ``round(fraction · cells)`` distinct cells."""
    k = min(cells, max(1, int(np.floor(fraction * cells + 0.5))))
    order = np.argsort(rng.random((n_subsets, cells)), axis=1)[:, :k]
    out = np.zeros((n_subsets, cells), bool)
    np.put_along_axis(out, order, True, axis=1)
    return out


def mufidelity(model, x, maps, grid="auto", fraction=0.2, n_subsets=128, target=None,
               score="logit", baseline=0.0, blur_sigma=5.0, batch_size=64, seed=0,
               return_terms=False):
    """MuFidelity (Bhatt et al. 2020, μ_F above): per sample, the Pearson correlation over
    ``n_subsets`` random sets S of grid cells between the map's mass on S and the score drop
    when S takes the ``baseline`` value. Higher is better (1: the map predicts every drop; a
    random map ≈ 0).

    Parameters
    ----------
    model : keras.Model
    x : array (N, H, W, C) or (N, T, C), in the model's input space.
    maps : (N, H, W) / (N, T), or attributions of x's shape (summed over channels: a
        constant factor, which the correlation ignores); NaN / inf are a ValueError.
    grid : "auto" (default) or cells per side, which must divide every side so that cells are
        equal in size (see :func:`grid_cells`; "auto": each side's largest divisor <= 9, near
        xplique's 9, e.g. 8 × 8 cells at 224 × 224, 8 cells on 40-point signals).
    fraction : share of the cells in each S (``round(fraction · cells)``, at least one).
    n_subsets : number of random sets S; the same seeded sets serve every sample.
    target : None (each sample's top-1), an int or one per sample.
    score : "logit" (default) or "probability": the f whose drop is measured.
    baseline : float, array broadcastable to x, or "blur" (std ``blur_sigma`` points).
    batch_size : perturbed inputs per model call.
    seed : seeds the sets S.
    return_terms : also return ``subsets`` (n_subsets, cells) bool, ``cells`` (P,) cell index
        of each point, and the per-sample ``attribution`` sums and score ``drop`` (N, n_subsets).

    Returns
    -------
    float64 (N,) correlations in [-1, 1] (0 when either side is constant: no NaN); or a dict
    with ``"mufidelity"`` and the terms.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction (share of cells removed) must be in (0, 1], got {fraction}")
    if isinstance(n_subsets, bool) or not isinstance(n_subsets, (int, np.integer)) \
            or n_subsets < 2:
        raise ValueError(f"n_subsets must be an integer >= 2 (a correlation needs at least two "
                         f"sets), got {n_subsets!r}")
    x = check_batch(model, x, batch_size)
    phi = spatial_maps(x, maps)  # (N, P)
    cells = grid_cells(spatial_shape(x), grid)
    ncells = int(cells.max()) + 1
    subsets = _subsets(np.random.default_rng(seed), n_subsets, ncells, fraction)
    # attribution mass of each cell, then of each set: (N, cells) @ (cells, n_subsets)
    per_cell = np.zeros((len(x), ncells))
    np.add.at(per_cell.T, cells, phi.T)
    attribution = per_cell @ subsets.T.astype(np.float64)
    fn = scores_fn(model, score, batch_size)
    clean = fn(x)
    targets = class_targets(target, clean)
    y = clean[np.arange(len(x)), targets].astype(np.float64)
    base, removed = baseline_input(x, baseline, blur_sigma), subsets[:, cells]
    drop = y[:, None] - masked_scores(
        fn, targets, len(x), n_subsets,
        lambda i, j: np.where(on_points(x, removed[j]), base[i], x[i]), batch_size)
    flat = _flat(attribution) | _flat(drop)
    corr = np.where(flat, 0.0, pearson_rows(attribution, drop))
    if return_terms:
        return {"mufidelity": corr, "subsets": subsets, "cells": cells,
                "attribution": attribution, "drop": drop}
    return corr


def _flat(v: np.ndarray) -> np.ndarray:
    """Rows that are constant up to float round-off (their correlation is undefined)."""
    return np.ptp(v, axis=1) <= 1e-9 * np.maximum(np.abs(v).max(axis=1), 1e-30)
