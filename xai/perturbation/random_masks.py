"""RISE (Petsiuk et al., 2018, "RISE: Randomized Input Sampling for Explanation of Black-box
Models", BMVC): the saliency of a position is the class score averaged over random masks that
keep it. The masks are seeded (independent of batch size) and scored in batched passes."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .. import probe as probes
from .. import scores
from .._batching import chunks, seeded_rng
from ..explain import register
from ..maps import min_max


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


def _rise_sum(x1, masks, t, *, probe, score):
    """Σ_i S(x ⊙ M_i) M_i and Σ_i S(x ⊙ M_i) over one chunk of masks."""
    s = scores.masked(probe, x1, masks, t, score)
    return tf.tensordot(s, masks, axes=1), tf.reduce_sum(s)


def _centred(total, mean_score, mask_sum, rtol=1e-5):
    """Σ_i S_i M_i − S̄ Σ_i M_i per sample; a result within float rounding of zero (relative to
    S̄ Σ_i M_i, e.g. a score that does not depend on the input) is exactly zero, so that min-max
    scaling does not blow rounding up into a map."""
    shared = mean_score.reshape((-1,) + (1,) * mask_sum.ndim) * mask_sum
    out = total - shared
    flat, scale = out.reshape(len(out), -1), np.abs(shared).reshape(len(out), -1).max(1)
    flat[np.ptp(flat, 1) <= rtol * scale] = 0.0
    return out


@register("rise", returns="map", label="RISE", count=lambda model, o: (o["n_masks"], 0),
          pins_top1=True)
def rise(model, x, target=None, score="probability", n_masks=4000, grid=7, p=0.5,
         normalize=True, batch_size=64, seed=None, progress=True, centre=False):
    """RISE (Petsiuk et al., 2018, eq. 6): saliency = Σ_i S(x ⊙ M_i) M_i / (N p).

    The paper weights masks by the class probability, hence ``score="probability"`` by default.
    The same ``n_masks`` masks (seeded by ``seed``, independent of batch_size) serve every sample.

    ``centre=True`` subtracts the mean masked score S̄ = mean_j S(x ⊙ M_j) of the sample::

        saliency = Σ_i (S(x ⊙ M_i) − S̄) M_i / (N p)

    a control variate (standard Monte Carlo variance reduction): its expectation is eq. 6's,
    E[S | M(λ) = 1], minus the constant E[S], so after min-max scaling both estimate the same
    map; it drops the term S̄ (Σ_i M_i / (N p) − 1), the chance unevenness of the mask density,
    which is the same for every sample explained with the same masks and otherwise draws the
    masks' pattern where the score hardly changes under masking (e.g. a saturated softmax). It
    does not remove the noise of a score that varies with the masks alone (e.g. a uniform image:
    any mask set gives its own pattern; raise ``n_masks``). It costs no extra model pass. The
    default (False) is the paper's eq. 6.

    Returns float32 (N, H, W) or (N, T), min-max scaled to [0, 1] unless ``normalize=False``
    (with ``centre=True`` the raw map is signed).
    """
    if isinstance(n_masks, bool) or not isinstance(n_masks, (int, np.integer)) or n_masks < 1:
        raise ValueError(f"n_masks must be a positive integer (the paper uses 4000 for "
                         f"ImageNet), got {n_masks!r}")
    if not 0 < p < 1:
        raise ValueError(f"p (the keep probability) must be in (0, 1), got {p}")
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 1:
        raise ValueError(f"grid must be a positive integer, got {grid!r}")
    if not isinstance(centre, (bool, np.bool_)):
        raise ValueError(f"centre must be True (subtract the mean masked score) or False (the "
                         f"paper's eq. 6), got {centre!r}")
    if np.ndim(x) > 4:
        raise ValueError(f"RISE draws 1-D or 2-D masks, and x has shape {np.shape(x)} (volumes): "
                         "use method='scorecam', 'sise', a gradient CAM (e.g. 'gradcam') or "
                         "a gradient method such as 'integrated_gradients'.")
    setup = scores.prepare(model, x, target, score, pin_top1=True, batch_size=batch_size)
    probe, x, targets = setup.probe, setup.x, setup.targets
    fn = probes.compiled(probe, ("rise", score), _rise_sum, probe=probe, score=score)
    rng, size = seeded_rng(seed), tuple(x.shape[1:-1])
    total = np.zeros((int(x.shape[0]),) + size, np.float64)
    score_sum, mask_sum = np.zeros(len(total)), np.zeros(size, np.float64)
    render = rise_masks(rng, n_masks, size, grid, p)
    for s in chunks(n_masks, batch_size, progress, "RISE masks"):
        masks = render(s)
        mask_sum += tf.reduce_sum(masks, 0).numpy()
        for i in range(len(total)):
            weighted, summed = fn(x[i], masks, tf.constant(targets[i], tf.int32))
            total[i] += weighted.numpy()
            score_sum[i] += float(summed)
    if centre:
        total = _centred(total, score_sum / n_masks, mask_sum)
    sal = (total / (n_masks * p)).astype(np.float32)
    return min_max(sal) if normalize else sal
