"""Where a map puts its mass: localisation numbers computed from maps and regions alone.

* :func:`pointing_game` -- Zhang et al. 2018 (excitation backprop, sec. 4.2): a hit when the
  map's maximum falls inside the object's region (within ``tolerance`` points); a flat map
  is never a hit.
* :func:`energy_share` -- the energy-based pointing game of Wang et al. 2020 (Score-CAM,
  sec. 5.2): Σ_{p ∈ region} L_p / Σ_p L_p, the share of the map's mass inside the region.
* :func:`top_iou` and :func:`peak_distance` -- how far apart two maps are (e.g. one per class).
* :func:`box_mask` and :func:`border_mask` build boolean regions; :func:`object_mask` the region
  of an image's hand-drawn boxes (:func:`xai.data.load_boxes`) at the resized image's size.

Maps are batches, (N, H, W) or (N, T), of values ≥ 0 (CAMs, or |attribution| reduced over channels);
regions are booleans, one per map or one (H, W) / (T,) for all.
"""
from __future__ import annotations

import numpy as np

from ._scoring import check_finite

__all__ = ["pointing_game", "energy_share", "top_iou", "peak_distance", "box_mask",
           "border_mask", "object_mask"]


def _batch(maps, name="maps") -> np.ndarray:
    m = check_finite(maps, name, "a map with them has no peak or mass to locate.")
    if m.ndim not in (2, 3):
        raise ValueError(f"{name} must be a batch, (N, H, W) or (N, T), got shape {m.shape} "
                         "(one map: maps[None])")
    return m


def _regions(regions, maps: np.ndarray) -> np.ndarray:
    r = np.asarray(regions)
    if r.dtype != bool:
        raise ValueError(f"regions must be boolean masks (e.g. xai.metrics.box_mask), got "
                         f"{r.dtype}")
    if r.shape != maps.shape and r.shape != maps.shape[1:]:
        raise ValueError(f"regions of shape {r.shape} do not match maps of shape {maps.shape}: "
                         f"give one mask of shape {maps.shape[1:]} or one per map")
    return np.broadcast_to(r, maps.shape)


def energy_share(maps, regions) -> np.ndarray:
    """Share of each map's mass inside its region: Σ_{p ∈ R} L_p / Σ_p L_p (Wang et al. 2020,
    Score-CAM, sec. 5.2, "energy-based pointing game").

    Parameters
    ----------
    maps : array (N, H, W) or (N, T)
        Non-negative maps (take ``np.abs`` or ``xai.viz.attribution_to_map`` of an attribution).
    regions : bool array, (N, H, W) or one (H, W) for all maps

    Returns
    -------
    float64 (N,) in [0, 1]. A map that is zero everywhere counts as uniform (its share is the
    region's area fraction), so no NaN is returned.
    """
    m = _batch(maps)
    if (m < 0).any():
        raise ValueError("energy_share needs maps >= 0: pass np.abs(attribution) or "
                         "xai.viz.attribution_to_map(attribution, 'abs_sum')")
    r = _regions(regions, m)
    axes = tuple(range(1, m.ndim))
    total = m.sum(axis=axes)
    inside = np.where(r, m, 0).sum(axis=axes)
    area = r.mean(axis=axes)
    return np.where(total > 0, inside / np.where(total > 0, total, 1), area)


def _peaks(m: np.ndarray) -> np.ndarray:
    """(N, ndim-1) index of each map's maximum (the first one in row-major order on ties)."""
    flat = m.reshape(len(m), -1).argmax(axis=1)
    return np.stack(np.unravel_index(flat, m.shape[1:]), axis=1)


def _pointing_peak(m: np.ndarray) -> tuple | None:
    """Index of one map's peak for the pointing game: None when the map is flat (max == min);
    among tied maxima the one closest to their centroid (the first in row-major order when
    several are equally close)."""
    if m.max() == m.min():
        return None
    top = np.argwhere(m == m.max())  # row-major order
    return tuple(top[np.argmin(np.linalg.norm(top - top.mean(axis=0), axis=1))])


def pointing_game(maps, regions, tolerance: float = 15, return_flat: bool = False):
    """Pointing game (Zhang et al. 2018, sec. 4.2): a hit when the map's maximum lies within
    ``tolerance`` points (Euclidean) of the region; the paper uses 15 pixels at 224 × 224.

    A flat map (max == min, e.g. all zeros) points nowhere and is never a hit (taking its first
    point would "hit" every region touching the corner). When a map has several tied maxima,
    its peak is the tied maximum closest to their centroid.

    Returns a bool (N,) array of hits; the hit rate is its mean. With ``return_flat``, also a
    bool (N,) array marking the flat maps: ``(hits, flat)``.
    """
    from scipy.ndimage import distance_transform_edt

    m = _batch(maps)
    r = _regions(regions, m)
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 points, got {tolerance}")
    hits, flat = np.zeros(len(m), dtype=bool), np.zeros(len(m), dtype=bool)
    for i in range(len(m)):
        if not r[i].any():
            raise ValueError(f"region {i} is empty: every map needs a region with at least one "
                             "point")
        peak = _pointing_peak(m[i])
        flat[i] = peak is None
        hits[i] = not flat[i] and distance_transform_edt(~r[i])[peak] <= tolerance
    return (hits, flat) if return_flat else hits


def _top(m: np.ndarray, fraction: float) -> np.ndarray:
    flat = m.reshape(len(m), -1)
    k = max(1, int(round(fraction * flat.shape[1])))
    order = np.argsort(-flat, axis=1, kind="stable")[:, :k]
    top = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(top, order, True, axis=1)
    return top


def top_iou(maps_a, maps_b, fraction: float = 0.2, positive: bool = False) -> np.ndarray:
    """Intersection over union of the top-``fraction`` points of two maps (each map's
    ``round(fraction · P)`` largest points, ties in row-major order). float64 (N,) in [0, 1]:
    1 = the same region, 0 = disjoint regions.

    ``positive=True`` keeps only the points > 0 of each top region, so a map that is zero on
    most of the image (a counterfactual CAM) is not padded with zeros picked by position; two
    maps with no positive point give 0."""
    a, b = _batch(maps_a, "maps_a"), _batch(maps_b, "maps_b")
    if a.shape != b.shape:
        raise ValueError(f"maps_a {a.shape} and maps_b {b.shape} must have the same shape")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    ta, tb = _top(a, fraction), _top(b, fraction)
    if positive:
        ta &= a.reshape(len(a), -1) > 0
        tb &= b.reshape(len(b), -1) > 0
    union = (ta | tb).sum(axis=1)
    return (ta & tb).sum(axis=1) / np.maximum(union, 1)


def peak_distance(maps_a, maps_b, relative: bool = True) -> np.ndarray:
    """Euclidean distance between the maxima of two maps, float64 (N,). ``relative=True``
    divides by the map's diagonal (or length for 1-D maps), so 0 = same peak, 1 = opposite
    corners; otherwise in points."""
    a, b = _batch(maps_a, "maps_a"), _batch(maps_b, "maps_b")
    if a.shape != b.shape:
        raise ValueError(f"maps_a {a.shape} and maps_b {b.shape} must have the same shape")
    d = np.linalg.norm(_peaks(a) - _peaks(b), axis=1)
    return d / np.linalg.norm(np.array(a.shape[1:]) - 1) if relative else d


def box_mask(size, boxes) -> np.ndarray:
    """Boolean (H, W) mask, True inside any of ``boxes`` = [(x0, y0, x1, y1), ...] in pixels
    (x = column, y = row; x1, y1 exclusive), clipped to the image."""
    h, w = size
    mask = np.zeros((h, w), dtype=bool)
    for box in np.atleast_2d(np.asarray(boxes, dtype=float)):
        if box.shape != (4,) or box[2] <= box[0] or box[3] <= box[1]:
            raise ValueError(f"a box is (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got "
                             f"{box.tolist()}")
        x0, y0, x1, y1 = np.round(box).astype(int)
        mask[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)] = True
    return mask


def object_mask(entry: dict, size, target=None) -> np.ndarray:
    """Boolean (H, W) mask of the objects of one :func:`xai.data.load_boxes` entry, for the
    image resized to ``size`` = (H, W): box x coordinates scale by W / width, y by H / height
    (a plain resize, as ``xai.data.sample_images(size)`` and ``load_image`` do).

    ``target``: None (every object), or an ImageNet class name: only the objects that accept it
    (e.g. "tabby" selects the cat of cat_dog, "boxer" its dog). A class no object accepts is a
    ValueError listing the accepted ones.
    """
    h, w = size
    objects = entry["objects"]
    if target is not None:
        objects = [o for o in objects if target in o["classes"]]
        if not objects:
            accepted = sorted({c for o in entry["objects"] for c in o["classes"]})
            raise ValueError(f"no object accepts class {target!r}; the accepted classes are "
                             f"{accepted}")
    sx, sy = w / entry["width"], h / entry["height"]
    boxes = [(x0 * sx, y0 * sy, x1 * sx, y1 * sy) for x0, y0, x1, y1 in
             (o["box"] for o in objects)]
    return box_mask((h, w), boxes)


def border_mask(size, width: float = 0.1) -> np.ndarray:
    """Boolean mask of shape ``size`` ((H, W) or (T,)), True within ``width`` of any edge:
    a fraction of each side when < 1 (0.1 = the outer 10 %), else a number of points."""
    if width <= 0:
        raise ValueError(f"width must be > 0, got {width}")
    mask = np.zeros(size, dtype=bool)
    for axis, n in enumerate(size):
        k = int(round(width * n)) if width < 1 else int(width)
        edge = np.zeros(n, dtype=bool)
        edge[:k], edge[n - k:] = True, True
        shape = [1] * len(size)
        shape[axis] = n
        mask |= edge.reshape(shape)
    return mask
