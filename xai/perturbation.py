"""Perturbation methods: RISE (SISE, which also masks the input, lives in sise.py)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from . import layers, scores
from ._batching import check_batch_size, chunks, seeded_rng


def min_max(maps):
    """Scale each map to [0, 1] (a constant map becomes zeros)."""
    maps = np.where(np.isfinite(maps), maps, 0.0)
    flat = maps.reshape(len(maps), -1)
    lo = flat.min(1).reshape((-1,) + (1,) * (maps.ndim - 1))
    span = flat.max(1).reshape(lo.shape) - lo
    return np.divide(maps - lo, span, out=np.zeros_like(maps), where=span > 0).astype(np.float32)


def rise_masks(rng: np.random.Generator, count: int, size: tuple, grid: int = 7, p: float = 0.5):
    """RISE masks (Petsiuk et al., 2018, sec. 3.2): ``grid``×``grid`` binary cells kept with
    probability p, bilinearly upsampled to (grid+1)·cell and cropped at a random shift.
    ``size`` is (H, W) or (T,). Returns a function ``render(slice)`` → float32 (B, *size), so
    masks are drawn once (independent of batch size) and rendered chunk by chunk."""
    size2 = tuple(size) + (1,) * (2 - len(size))
    cells = tuple(grid if s > 1 else 1 for s in size2)
    cell = tuple(int(np.ceil(s / c)) for s, c in zip(size2, cells))
    up = tuple((c + 1) * k if s > 1 else 1 for s, c, k in zip(size2, cells, cell))
    keep = (rng.random((count,) + cells) < p).astype(np.float32)
    shift = np.stack([rng.integers(0, k, count) if s > 1 else np.zeros(count, int)
                      for s, k in zip(size2, cell)], 1)

    def render(part: slice):
        big = tf.image.resize(keep[part][..., None], up, "bilinear")[..., 0]
        rows = shift[part, :1] + np.arange(size2[0])
        cols = shift[part, 1:] + np.arange(size2[1])
        masks = tf.gather(tf.gather(big, rows, axis=1, batch_dims=1), cols, axis=2,
                          batch_dims=1)
        return tf.reshape(masks, (-1,) + tuple(size))
    return render


def _rise_fn(model, score):
    probe = layers.build_probe(model, None)
    return probe, layers.compiled(probe, ("rise", score), _rise_sum, probe=probe, score=score)


def _rise_sum(x1, masks, t, *, probe, score):
    """Σ_i S(x ⊙ M_i) M_i over one chunk of masks."""
    z = probe.model(x1[None] * masks[..., None], training=False)
    return tf.tensordot(scores.transform(z, probe, score)[:, t], masks, axes=1)


def rise(model, x, target=None, score="probability", n_masks=4000, grid=7, p=0.5,
         normalize=True, batch_size=64, seed=None, progress=True):
    """RISE (Petsiuk et al., 2018, eq. 6): saliency = Σ_i S(x ⊙ M_i) M_i / (N p).

    The paper weights masks by the class probability, hence ``score="probability"`` by default.
    The same ``n_masks`` masks (seeded by ``seed``, independent of batch_size) serve every sample.
    Returns float32 (N, H, W) or (N, T), min-max scaled to [0, 1] unless ``normalize=False``.
    """
    if isinstance(n_masks, bool) or not isinstance(n_masks, (int, np.integer)) or n_masks < 1:
        raise ValueError(f"n_masks must be a positive integer (the paper uses 4000 for "
                         f"ImageNet), got {n_masks!r}")
    if not 0 < p < 1:
        raise ValueError(f"p (the keep probability) must be in (0, 1), got {p}")
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 1:
        raise ValueError(f"grid must be a positive integer, got {grid!r}")
    batch_size = check_batch_size(batch_size)
    x = tf.convert_to_tensor(x, tf.float32)
    probe, fn = _rise_fn(model, score)
    targets = scores.resolve_targets(target, int(x.shape[0]), probe.num_classes)
    targets = scores.fix_targets(model, x, targets, batch_size)
    rng, size = seeded_rng(seed), tuple(x.shape[1:-1])
    total = np.zeros((int(x.shape[0]),) + size, np.float64)
    render = rise_masks(rng, n_masks, size, grid, p)
    for s in chunks(n_masks, batch_size, progress, "RISE masks"):
        masks = render(s)
        for i in range(len(total)):
            total[i] += fn(x[i], masks, tf.constant(targets[i], tf.int32)).numpy()
    sal = (total / (n_masks * p)).astype(np.float32)
    return min_max(sal) if normalize else sal
