"""Sanity check by cascading model randomisation (Adebayo et al. 2018, "Sanity checks for
saliency maps", NeurIPS), the "cascading randomization" of its model parameter
randomization test.

The weights of a *copy* of the model are re-drawn layer by layer from the top (the logits) down,
cumulatively; at each step the maps are recomputed for the original targets and compared with
the maps of the trained model. A method whose maps barely change while the network is destroyed
does not explain the model (it fails the check).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._scoring import (
    check_batch,
    check_finite,
    class_targets,
    method_maps,
    pearson_rows,
    run_method,
    scores_fn,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["sanity_check", "sanity_curves", "sanity_verdict", "randomisable_layers",
           "spearman", "map_ssim"]


# ---------------------------------------------------------------------- similarity of maps
def spearman(maps_a, maps_b) -> np.ndarray:
    """Spearman rank correlation of each pair of maps (ranks with ties averaged, then Pearson),
    float64 (N,). Maps are batches of any shape (N, ...). A constant map has no correlation: 1
    against an equal constant map, else 0 (never NaN)."""
    from scipy.stats import rankdata

    a, b = _pair(maps_a, maps_b)
    return pearson_rows(rankdata(a.reshape(len(a), -1), axis=1),
                        rankdata(b.reshape(len(b), -1), axis=1))


def _pair(maps_a, maps_b) -> tuple[np.ndarray, np.ndarray]:
    """Two batches of maps as float64, of the same shape and finite."""
    a, b = check_finite(maps_a, "maps_a"), check_finite(maps_b, "maps_b")
    if a.shape != b.shape:
        raise ValueError(f"maps of shapes {a.shape} and {b.shape} differ: compare one map of "
                         "the same shape per sample")
    return a, b


def _unit(m: np.ndarray) -> np.ndarray:
    """Each map divided by its maximum (a zero map stays zero)."""
    peak = m.reshape(len(m), -1).max(axis=1).reshape((-1,) + (1,) * (m.ndim - 1))
    return np.divide(m, peak, out=np.zeros_like(m), where=peak > 0)


def map_ssim(maps_a, maps_b) -> np.ndarray:
    """SSIM (Wang et al. 2004, ``skimage.metrics.structural_similarity``) of each pair of
    non-negative maps (N, H, W) / (N, T), each first divided by its maximum (data range 1).
    The Gaussian-free 7-point window shrinks to the map's smallest side (odd) on small maps.
    Both batches must have the same shape and finite values."""
    from skimage.metrics import structural_similarity

    a, b = (_unit(m) for m in _pair(maps_a, maps_b))
    win = min(7, min(a.shape[1:]))
    win -= 1 - win % 2
    if win < 3:
        raise ValueError(f"maps of shape {a.shape[1:]} are too small for SSIM (need ≥ 3 points "
                         "per side)")
    return np.array([structural_similarity(p, q, data_range=1.0, win_size=win)
                     for p, q in zip(a, b)])


def _as_maps(out, x: np.ndarray, method) -> tuple[np.ndarray, np.ndarray]:
    """(signed, absolute) one value per point: attributions of x's shape are summed over the
    channels (signed), and their absolute values summed over the channels. NaN / inf refused."""
    m = method_maps(out, method)
    if m.shape == x.shape and x.ndim >= 3:
        return m.sum(axis=-1), np.abs(m).sum(axis=-1)
    return m, np.abs(m)


def _compare(ref, new) -> dict:
    return {"spearman": spearman(ref[0], new[0]), "spearman_abs": spearman(ref[1], new[1]),
            "ssim": map_ssim(ref[1], new[1])}


# ------------------------------------------------------------------------- randomisation
def randomisable_layers(model, batchnorm: bool = False) -> list[str]:
    """Names of the layers the cascade randomises, in the order the model applies them (nested
    models walked into); the cascade goes from the last one backwards.

    By default the layers whose trainable weights are learned parameters carrying the class
    evidence (Conv1D/2D/3D, DepthwiseConv, SeparableConv, Dense, EinsumDense, ...: Adebayo et
    al.'s "weights"). BatchNormalization layers are left out: their re-drawn scale and shift
    and kept moving statistics are not such weights. ``batchnorm=True`` lists them too.
    """
    import keras

    return [layer.name for layer in _leaves(model) if layer.trainable_weights
            and (batchnorm or not isinstance(layer, keras.layers.BatchNormalization))]


def _copy(model):
    """An independent copy of the model (same architecture, its own variables, same values)."""
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def _randomise(layer, rng: np.random.Generator) -> None:
    """Re-draw every trainable variable of ``layer`` in place from a normal with that variable's
    own mean and standard deviation (a zero-std variable, e.g. untouched zero biases, keeps its
    value). Non-trainable state (batch-norm moving statistics) is kept."""
    for v in layer.trainable_weights:
        w = np.asarray(v.numpy(), np.float64)
        v.assign(rng.normal(w.mean(), w.std(), w.shape).astype(v.dtype))


def sanity_check(model, x, method="gradcam", target=None, layers=None, seed=0,
                 **options) -> "pd.DataFrame":
    """Cascading model randomisation (Adebayo et al. 2018): similarity of the
    maps of the trained model and of copies whose top k layers are randomised.

    Step 0 is the untouched copy; step k re-draws the weights of the k-th layer from the top
    (and keeps the k − 1 above it random), until every layer of ``layers`` is random. Each
    trainable variable is re-drawn from a seeded normal with **that variable's own mean and
    standard deviation** (so the scale of each layer is kept; batch-norm moving statistics are
    not touched). The user's model is never modified. At each step, for the same targets as the
    trained model's (its top-1 when ``target`` is None):

    * ``spearman``: Spearman rank correlation of the signed maps (attributions summed over
      channels), and ``spearman_abs`` of their absolute values (|attribution| summed over
      channels), as in the paper's "with / without absolute value";
    * ``ssim``: SSIM of the absolute maps, each scaled by its maximum.

    Parameters
    ----------
    model : keras.Model (Sequential, functional, nested, 1-D or 2-D)
    x : array (N, H, W, C) or (N, T, C) in the model's input space.
    method : a name of ``xai.METHODS``, or a callable ``f(model, x, target=..., **options)``
        returning maps (maps with NaN / inf are a ValueError naming the method).
    target : None (the trained model's top-1), an int or one per sample.
    layers : list of layer names to randomise, top first (any layer with trainable weights,
        BatchNormalization included); default :func:`randomisable_layers` (no
        BatchNormalization), from the last to the first.
    seed : int, seeds the re-drawn weights and, for a method with a ``seed`` option (RISE,
        SmoothGrad, ...), the method, so its own randomness is the same at every step.
    **options : passed to the method (``layer=``, ``batch_size=``, ``seed=``, ...). Pass
        ``layer=`` by name for CAMs: the copy keeps the layer names.

    Returns
    -------
    pandas.DataFrame, tidy: ``step``, ``layer`` (the layer randomised at that step, "none" at
    step 0), ``metric``, ``mean`` and ``std`` over the N samples.
    """
    import pandas as pd

    x = check_batch(model, x, 64)
    order = list(reversed(randomisable_layers(model))) if layers is None else list(layers)
    known = set(randomisable_layers(model, batchnorm=True))
    missing = [name for name in order if name not in known]
    if missing:
        raise ValueError(f"layers {missing} have no trainable weights or do not exist; choose "
                         f"among {sorted(known)}")
    targets = class_targets(target, scores_fn(model, "logit", 64)(x))
    run = run_method(method, options, seed)
    ref = _as_maps(run(model, x, targets), x, method)
    copy = _copy(model)
    by_name = {layer.name: layer for layer in _leaves(copy)}
    rng = np.random.default_rng(seed)
    rows = []
    for step, name in enumerate(["none"] + order):
        if step:
            _randomise(by_name[name], rng)
            _refresh(copy, by_name[name])
        for metric, values in _compare(ref, _as_maps(run(copy, x, targets), x, method)).items():
            rows.append({"step": step, "layer": name, "metric": metric,
                         "mean": float(values.mean()), "std": float(values.std())})
    return pd.DataFrame(rows)


def _refresh(model, layer) -> None:
    """Drop the copy's cached probes when ``layer`` is its head and not a plain Dense: xai's
    logit probe holds a *copy* of such a head (a Dense head shares its variables)."""
    from .. import layers
    from .. import probe as probes

    final = layers.final_layer_path(model)
    if final and final[-1] is layer and not probes.plain_dense(layer):
        probes.clear_cache(model)


def _leaves(model) -> list:
    """Every layer that is not itself a model, nested models walked into, in model order."""
    import keras

    from .. import layers

    return [p[-1] for p in layers.walk(model) if not isinstance(p[-1], keras.Model)]


def sanity_curves(model, x, methods: dict, layers=None, seed=0) -> "pd.DataFrame":
    """:func:`sanity_check` of several methods, ``{label: name or (name, options)}``, stacked
    with a ``method`` column (progress bars off)."""
    import pandas as pd

    from .. import METHODS
    frames = []
    for label, spec in methods.items():
        name, options = (spec, {}) if isinstance(spec, str) else spec
        options = {k: v for k, v in options.items() if k != "progress"}
        if "progress" in METHODS[name].options():
            options["progress"] = False
        frames.append(sanity_check(model, x, name, layers=layers, seed=seed, **options)
                      .assign(method=label))
    return pd.concat(frames, ignore_index=True)


def sanity_verdict(curves, threshold: float = 0.5) -> "pd.DataFrame":
    """The last step of :func:`sanity_curves` per method (metrics as columns) and ``fails``:
    |Spearman| still above ``threshold`` once every listed layer is random (Adebayo et al.
    2018: such maps do not depend on what the model learned)."""
    last = curves[curves["step"] == curves["step"].max()]
    table = last.pivot(index="method", columns="metric", values="mean")
    table = table.loc[list(dict.fromkeys(curves["method"]))]
    table["fails"] = table["spearman_abs"] > threshold
    return table
