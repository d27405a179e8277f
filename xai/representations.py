"""Layer representations: a layer's feature maps, its strongest channels, and 2-D embeddings.

The seeds of the study looked inside the network in two ways: the feature maps of each layer
for one input (which channels fire, and where, from the first to the last block), and the
representation of a whole test set at one layer, projected to 2-D and coloured by class and by
correctness. :func:`activations` runs the cached probe of :mod:`xai.probe` (the model's own
layers and weights, any model xai explains) up to a layer; :func:`strongest_channels` ranks a
sample's channels by mean activation; :func:`embed` projects features by PCA; and
:func:`nearest_centroid` tells, for each point, which class centroid it lies closest to. The
figures are in :mod:`xai.viz.representations`.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from . import layers
from . import probe as probes
from ._batching import check_batch_size, chunks

POOLS = ("mean", "flatten")
METHODS = ("pca",)


def activations(model, x, layer=None, batch_size=32, progress=True) -> np.ndarray:
    """The activation A of ``layer`` for each sample of ``x``, float32 (N, *positions, K).

    ``layer`` is a name (nested models included), an index into ``model.layers``, a Layer, or
    None for the CAM layer (the last spatial map, :func:`xai.layers.resolve_layer`). Runs in
    batches of ``batch_size``; the result does not depend on it.
    """
    batch_size = check_batch_size(batch_size)
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must be a batch (N, ...) with N ≥ 1, got shape {x.shape}; add the "
                         "batch axis for one sample, e.g. x[None]")
    probe = probes.build_probe(model, layers.resolve_layer(model, layer))
    fn = probes.compiled(probe, ("activations",), _forward_acts, probe=probe)
    dtype = probe.model.inputs[0].dtype
    parts = [fn(tf.convert_to_tensor(x[s], dtype)).numpy()
             for s in chunks(len(x), batch_size, progress, desc="activations")]
    return np.concatenate(parts).astype(np.float32, copy=False)


def _forward_acts(xb, *, probe):
    return probe.model(xb, training=False)[0]


def strongest_channels(acts, n) -> np.ndarray:
    """Indices of the ``n`` channels with the largest mean activation over positions, in
    descending order (ties: lower index first), for ONE sample's activations (*positions, K).
    ``n`` larger than K gives all K channels."""
    a = np.asarray(acts, dtype=np.float64)
    if a.ndim < 2:
        raise ValueError(f"acts must be one sample's activations (*positions, K), got shape "
                         f"{a.shape}; for a batch pass acts[i]")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    mean = a.reshape(-1, a.shape[-1]).mean(axis=0)
    return np.argsort(-mean, kind="stable")[:int(n)]


def pool_features(features, pool="mean") -> np.ndarray:
    """Per-sample feature vectors (N, D) from (N, ...): ``"mean"`` global-average-pools the
    positions of a feature map (N, *positions, K) → (N, K); ``"flatten"`` keeps every value."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim < 2:
        raise ValueError(f"features must be (N, ...) with one row per sample, got shape {f.shape}")
    if pool == "mean":
        return f.reshape(len(f), -1, f.shape[-1]).mean(axis=1)
    if pool == "flatten":
        return f.reshape(len(f), -1)
    raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")


def embed(features, method="pca", n_components=2, seed=0, pool="mean"):
    """Project per-sample features to ``n_components`` dimensions.

    ``features`` (N, ...) are pooled by :func:`pool_features` (``pool="mean"``: one value per
    channel). PCA is the SVD of the centred features X − x̄ = U S Vᵀ: the points are
    (X − x̄) V[:, :n], the explained variance ratios S²/ΣS². Signs are fixed so that each
    component's largest-|loading| entry is positive (first such entry on ties), making the
    result deterministic. ``seed`` is unused by PCA (kept for non-deterministic methods).

    Returns
    -------
    points : ndarray (N, n_components)
    info : dict
        ``method``, ``pool``, ``explained_variance_ratio`` (list), ``components`` (n, D) and
        ``mean`` (D,).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r} (t-SNE and UMAP need "
                         "packages that xai does not depend on)")
    X = pool_features(features, pool)
    n, d = X.shape
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) \
            or not 1 <= n_components <= min(n, d):
        raise ValueError(f"n_components must be an integer in [1, min(N, D)] = [1, {min(n, d)}] "
                         f"for features pooled to {X.shape}, got {n_components!r}")
    if not np.isfinite(X).all():
        raise ValueError("features contain NaN or inf; remove those samples first")
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    comps = vt[:n_components]
    big = np.argmax(np.abs(comps), axis=1)
    comps = comps * np.sign(comps[np.arange(len(comps)), big])[:, None]
    var = s ** 2
    ratio = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    info = {"method": method, "pool": pool, "components": comps, "mean": mean,
            "explained_variance_ratio": [float(r) for r in ratio[:n_components]]}
    return (X - mean) @ comps.T, info


def nearest_centroid(points, labels) -> np.ndarray:
    """For each point, the label whose centroid (mean of the points with that label) is nearest
    (Euclidean; ties: the smaller label) — e.g. in which class's cluster a misclassified
    sample lies."""
    p = np.asarray(points, dtype=np.float64)
    y = np.asarray(labels)
    if p.ndim != 2 or y.shape != (len(p),):
        raise ValueError(f"points must be (N, d) and labels (N,), got {p.shape} and {y.shape}")
    classes = np.unique(y)
    centroids = np.stack([p[y == c].mean(axis=0) for c in classes])
    dist = np.linalg.norm(p[:, None, :] - centroids[None], axis=-1)
    return classes[np.argmin(dist, axis=1)]
