"""Masked re-classification with equal-area controls (Part 1 of the study).

Keep only the points where an explanation map is high, classify the masked input again and see
whether the class survives: the masked-input test of Grad-CAM++ (Chattopadhay et al. 2018,
"Grad-CAM++: Generalized gradient-based visual explanations for deep convolutional networks",
WACV, sec. 6.1), with the original study's threshold 0.35.

A map that keeps a large area keeps the class whatever it shows, and ImageNet objects are
mostly in the middle of the photo. Two controls with *exactly* the same number of points as the
map's region separate "the map is in the right place" from "the map keeps enough area":

* random -- the top-k points of a seeded smooth random map (uniform noise on a coarse grid,
  7 x 7 for images, 10 points for signals, upsampled bilinearly), a blob-like region of the
  same size anywhere in the input;
* centre -- a centred box with the input's aspect ratio (a centred interval for signals).

A map beats its controls only if its region holds more of what the model uses than an
arbitrary or a central region of the same area.
"""
from __future__ import annotations

import functools

import numpy as np

__all__ = ["masked_reclassification", "random_region", "centre_region"]

_GRID = {1: (10,), 2: (7, 7)}  # the random control's coarse noise grid per number of axes
_VARIANTS = ("", "_random", "_centre")


def _check_shape(shape) -> tuple:
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    if len(shape) not in _GRID or min(shape) < 1:
        raise ValueError(f"regions are 1-D (T,) or 2-D (H, W) with positive sides, got {shape}")
    return shape


def _check_count(shape, k) -> int:
    size = int(np.prod(shape))
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= size:
        raise ValueError(f"k must be an integer number of points in 0..{size}, got {k!r}")
    return int(k)


def _top(order: np.ndarray, shape, k: int) -> np.ndarray:
    region = np.zeros(order.size, bool)
    region[order[:k]] = True
    return region.reshape(shape)


def _top_values(values: np.ndarray, k: int) -> np.ndarray:
    """The k highest points of ``values`` (ties taken in row-major order), in O(size)."""
    flat = values.ravel()
    region = np.zeros(flat.size, bool)
    if k > 0:
        kth = np.partition(flat, flat.size - k)[flat.size - k]
        region[flat > kth] = True
        region[np.flatnonzero(flat == kth)[:k - region.sum()]] = True
    return region.reshape(values.shape)


def _smooth_noise(shape, seed) -> np.ndarray:
    """The seeded smooth random map: coarse uniform noise, upsampled bilinearly."""
    import tensorflow as tf

    from ..maps import upsample

    grid = np.random.default_rng(seed).uniform(size=_GRID[len(shape)]).astype(np.float32)
    return upsample(tf.constant(grid[None]), shape)[0].numpy()


@functools.lru_cache(maxsize=8)
def _centre_order(shape) -> np.ndarray:
    """Points by increasing box distance from the centre, max over axes of |p - c| / side
    (computed in integers, so equal distances tie exactly); within a distance, point-mirror
    pairs come together, so a partial ring leaves at most one point without its mirror."""
    coords = np.indices(shape).reshape(len(shape), -1)
    sides = np.array(shape)[:, None]
    # |2 p - (side - 1)| * (P / side) = 2 P |p - c| / side, an integer
    dist = (np.abs(2 * coords - (sides - 1)) * (int(np.prod(shape)) // sides)).max(axis=0)
    flat = np.arange(coords.shape[1])
    pair = np.minimum(flat, np.ravel_multi_index(tuple(sides - 1 - coords), shape))
    order = np.lexsort((flat, pair, dist))
    order.setflags(write=False)
    return order


def random_region(shape, k, seed=0) -> np.ndarray:
    """The random control: ``k`` points of a smooth random region, seeded.

    Parameters
    ----------
    shape : int or (H, W)
        A signal's length or an image's size.
    k : int
        Number of points, 0..prod(shape); exactly this many are True.
    seed : int or np.random.SeedSequence
        Used only through ``np.random.default_rng(seed)``: uniform noise on a 7 x 7 grid (10
        points for signals), upsampled bilinearly to ``shape``, and its k highest points. The
        same seed gives nested regions for growing k.

    Returns
    -------
    np.ndarray
        bool, ``shape``.
    """
    shape = _check_shape(shape)
    return _top_values(_smooth_noise(shape, seed), _check_count(shape, k))


def centre_region(shape, k) -> np.ndarray:
    """The centre control: a centred box of exactly ``k`` points.

    The box has the input's aspect ratio (an interval for signals); the points of the last,
    partial ring are added in point-mirror pairs in row-major order, so the count is exact,
    the result deterministic and the centroid within half a point of the centre on each axis.

    Parameters
    ----------
    shape : int or (H, W)
    k : int
        Number of points, 0..prod(shape).

    Returns
    -------
    np.ndarray
        bool, ``shape``.
    """
    shape = _check_shape(shape)
    return _top(_centre_order(shape), shape, _check_count(shape, k))


def _seeds(seeds, n: int) -> list:
    if seeds is None:
        seeds = 0
    if np.ndim(seeds) == 0:
        seeds = [seeds] * n
    seeds = list(np.asarray(seeds, dtype=object).ravel())
    if len(seeds) != n or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0
            for s in seeds):
        raise ValueError(f"seeds must be None, a non-negative int, or {n} non-negative ints "
                         f"(one per sample); got {len(seeds)} entries")
    return [int(s) for s in seeds]


def _check(x, maps, threshold, baseline):
    x = np.asarray(x, np.float32)
    if x.ndim not in (3, 4):
        raise ValueError(f"x must be a batch of signals (N, T, C) or images (N, H, W, C), got "
                         f"shape {x.shape}")
    maps = np.asarray(maps, np.float64)
    if maps.shape != x.shape[:-1]:
        raise ValueError(f"maps of shape {maps.shape} do not fit x of shape {x.shape}: expected "
                         f"{x.shape[:-1]}, one value per point (resize CAMs to the input, and "
                         "reduce an attribution over channels first)")
    if not np.isfinite(maps).all():
        raise ValueError("maps contain NaN or inf; xai's maps never do: replace them "
                         "(e.g. np.nan_to_num) or recompute the maps")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) \
            or not 0 < threshold <= 1:
        raise ValueError(f"threshold must be a number in (0, 1] (maps are scaled to [0, 1] per "
                         f"sample; the study uses 0.35), got {threshold!r}")
    b = np.asarray(baseline, np.float32)
    try:
        base = np.broadcast_to(b, x.shape)
    except ValueError:
        raise ValueError(f"baseline of shape {b.shape} does not broadcast to x of shape "
                         f"{x.shape}") from None
    return x, maps, base


def masked_reclassification(model, x, maps, threshold=0.35, baseline=0.0, seeds=None,
                            batch_size=64, progress=True) -> dict:
    """Classify each input again with only its map's region kept, and two same-area controls.

    Each map is clipped at 0 and divided by its maximum (CAMs already are in [0, 1]); the
    points where it reaches ``threshold`` are kept, all others set to ``baseline``, and the
    masked input classified again (Chattopadhay et al. 2018, sec. 6.1). The random and centre
    controls (:func:`random_region`, :func:`centre_region`) keep the same number k of points.
    A map with no point at the threshold (e.g. all zeros) keeps nothing: area 0, and its
    ``kept`` and ``drop``, like its controls', are those of the all-baseline input.

    Parameters
    ----------
    model : keras.Model
        A classifier; scored with :func:`xai.scores.class_scores` (``score="probability"``).
    x : array (N, H, W, C) or (N, T, C)
        Inputs in the model's input space.
    maps : array (N, H, W) or (N, T)
        One value per point, shared by the channels; finite.
    threshold : float in (0, 1]
        Keep the points whose scaled map value is ≥ threshold.
    baseline : float or array broadcasting to x
        The value of removed points, in the model's input space (e.g. -1.0, a black pixel
        after MobileNet's preprocessing).
    seeds : None, int or sequence of N ints
        The random control of sample i uses ``np.random.default_rng(seeds[i])`` only, so a
        sample's result does not depend on the other samples or its position. None: 0 for all.
    batch_size : int
        Masked inputs (three per sample) scored at a time.
    progress : bool
        A progress bar over the batches.

    Returns
    -------
    dict of str -> np.ndarray
        float64 (N,) each: ``area`` (fraction of points kept); ``kept`` (1.0 if the masked
        input's top-1 class is the clean top-1, else 0.0) and ``drop`` (the clean top-1's
        probability on x minus on the masked input; negative when it rises) for the map, and
        ``kept_random``, ``drop_random``, ``kept_centre``, ``drop_centre`` for the controls.
    """
    from .._batching import check_batch_size, chunks
    from ..scores import class_scores

    batch_size = check_batch_size(batch_size)
    x, maps, base = _check(x, maps, threshold, baseline)
    n, shape = len(x), x.shape[1:-1]
    seeds = _seeds(seeds, n)
    flat = np.clip(maps.reshape(n, -1), 0.0, None)
    peak = flat.max(axis=1, keepdims=True)
    scaled = np.divide(flat, peak, out=np.zeros_like(flat), where=peak > 0)
    keep = scaled >= threshold
    counts = keep.sum(axis=1)
    out = {"area": counts / flat.shape[1]}
    kept, drop = np.zeros((n, 3)), np.zeros((n, 3))
    if n:
        clean = class_scores(model, x, "probability", batch_size)
        top = clean.argmax(axis=1)
        p_clean = clean[np.arange(n), top]
        centre = _centre_order(shape)
        for s in chunks(3 * n, batch_size, progress, "masked re-classification"):
            i, v = np.divmod(np.arange(s.start, s.stop), 3)
            masks = np.empty((len(i), flat.shape[1]), bool)
            for j, (ii, vv) in enumerate(zip(i, v)):  # the map's region, random, centre
                if vv == 0:
                    masks[j] = keep[ii]
                elif vv == 1:
                    masks[j] = _top_values(_smooth_noise(shape, seeds[ii]), counts[ii]).ravel()
                else:
                    masks[j] = _top(centre, -1, counts[ii])
            xb = np.where(masks.reshape(len(i), *shape, 1), x[i], base[i])
            prob = class_scores(model, xb, "probability", batch_size)
            kept[i, v] = prob.argmax(axis=1) == top[i]
            drop[i, v] = p_clean[i] - prob[np.arange(len(i)), top[i]]
    for col, suffix in enumerate(_VARIANTS):
        out["kept" + suffix], out["drop" + suffix] = kept[:, col], drop[:, col]
    return out
