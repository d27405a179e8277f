"""Recipro-CAM (Byun & Lee, 2022, "Recipro-CAM: Fast gradient-free visual explanations for
convolutional neural networks", arXiv 2209.14074): gradient-free, one backbone pass per sample.

For each position p of the CAM layer's feature map A (B, *s, K), a feature map that keeps
only A's feature vector at p, F_p(q) = M_p(q) · A_p (a spatial mask M_p: one-hot at p, so
F_p = A ⊙ M_p, as in the paper; or a 3×3 Gaussian around p, the authors' code's variant), runs
through the rest of the network (the *tail*, :mod:`xai.tail`); the map at p is the target
class's score of F_p. The h·w feature maps of a sample run through the tail in batches of
``batch_size``.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from . import layers, scores
from . import probe as probes
from ._batching import chunks
from .cam import activations
from .explain import register
from .maps import finish
from .tail import build_tail

#: the spatial masks, per axis: one-hot (the paper's), or the 3-tap Gaussian [1, 2, 1] / 4
#: (the 3×3 kernel [[1, 2, 1], [2, 4, 2], [1, 2, 1]] / 16 in 2-D, cut at the map's border)
KERNELS = ("onehot", "gaussian")


def spatial_masks(spatial: tuple, kernel: str = "onehot") -> np.ndarray:
    """The masks M_p (P, *spatial), P = the number of positions, row-major: one at p only
    ("onehot"), or a Gaussian over p's 3^d neighbourhood ("gaussian", weight 1/2^d at p)."""
    _check_kernel(kernel)
    masks = np.ones((1, 1), np.float32)
    for n in spatial:
        axis = np.eye(n, dtype=np.float32)
        if kernel == "gaussian":
            axis = 0.5 * axis + 0.25 * (np.eye(n, k=1, dtype=np.float32)
                                        + np.eye(n, k=-1, dtype=np.float32))
        masks = np.kron(masks, axis)  # row p = (i, j, ...), column = the mask's position
    return masks.reshape((-1,) + tuple(spatial))


def _check_kernel(kernel):
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}: 'onehot' keeps one "
                         "position of the feature map (the paper's mask), 'gaussian' spreads "
                         "its feature vector over its 3×3 neighbourhood, weighted [1, 2, 1] ⊗ "
                         "[1, 2, 1] / 16.")


def _count(model, options):
    """One forward pass of the whole model per sample; the h·w tail passes (the network after
    the CAM layer, on masked feature maps) do not run the layers before it and are not counted."""
    return 1, 0


@register("reciprocam", returns="map", layer="one", label="Recipro-CAM", count=_count)
def reciprocam(model, x, layer=None, target=None, score="probability", kernel="onehot",
               normalize=True, upsample=True, batch_size=32, progress=True):
    """Recipro-CAM (Byun & Lee, 2022): map_c(p) = S_c(tail(F_p)), F_p(q) = M_p(q) · A_p, the
    target's score of the feature map that keeps A's feature vector at p only. ``kernel``:
    "onehot" (default; M_p one-hot at p, F_p = A ⊙ M_p, the paper's mask) or "gaussian" (A_p
    spread over p's 3×3 neighbourhood with weights [1, 2, 1] ⊗ [1, 2, 1] / 16, cut at the
    border: the variant of the authors' code). ``score`` is the softmax probability by default,
    as in the paper, or "logit".

    Cost per sample: one forward pass of the model, then h·w passes of the tail (the network
    after ``layer``), ``batch_size`` masked feature maps at a time. The layer's output alone
    must feed the rest of the network (no skip connection around it).

    Returns float32 (N, H, W) / (N, T) maps, each min-max scaled to [0, 1] as in the authors'
    code (``normalize=False`` keeps the raw scores; ``upsample=False`` the feature-map
    resolution). With a GAP head the raw probabilities are close to 1 / classes (one position
    of h·w feeds the pooling): the map is in their differences.
    """
    _check_kernel(kernel)
    path = layers.resolve_layer(model, layer)
    setup = scores.prepare(model, x, target, score, path)
    probe, x = setup.probe, setup.x
    tail = build_tail(model, path)
    A, targets = activations(probe, x, setup.targets, batch_size, progress)
    masks = tf.constant(spatial_masks(tuple(A.shape[1:-1]), kernel))
    fn = probes.compiled(probe, ("reciprocam", score), _tail_scores, tail=tail, probe=probe,
                         score=score)
    n, positions = int(x.shape[0]), int(masks.shape[0])
    owner, position = np.divmod(np.arange(n * positions), positions)
    raw = np.concatenate([fn(A, masks, owner[s], position[s], targets[owner[s]]).numpy()
                          for s in chunks(len(owner), batch_size, progress, "reciprocam")])
    maps = raw.reshape((n,) + tuple(masks.shape[1:]))
    if normalize:  # min-max: the lowest position's score becomes 0
        maps = np.where(np.isfinite(maps), maps, 0.0)
        maps = maps - maps.reshape(n, -1).min(1).reshape((n,) + (1,) * (maps.ndim - 1))
    size = tuple(x.shape[1:-1]) if upsample else None
    return finish(maps, size, normalize).numpy()


def _tail_scores(A, masks, owner, position, t, *, tail, probe, score):
    """S_t(tail(F)) for a chunk of (sample n, position p) rows, F(q) = M_p(q) · A[n, p]."""
    flat = tf.reshape(A, (tf.shape(A)[0], -1, A.shape[-1]))  # (N, P, K)
    centre = tf.gather_nd(flat, tf.stack([owner, position], 1))  # (rows, K)
    centre = tf.reshape(centre, [-1] + [1] * (len(A.shape) - 2) + [A.shape[-1]])
    masked = tf.gather(masks, position)[..., None] * centre
    z = scores.transform(tail(masked, training=False), probe, score)
    return tf.gather(z, t, axis=1, batch_dims=1)
