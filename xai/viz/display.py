"""Results as displayable maps and images: one map per sample in [0, 1] from any method's result
(:func:`display_map`, :func:`attribution_to_map`), resizing for display (:func:`resize`) and
OpenCV colormap overlays on an image (:func:`overlay`), with the default colour maps. Only
NumPy and OpenCV: no matplotlib figure is made here (those are in :mod:`xai.viz.figures`).
"""
from __future__ import annotations

import numpy as np

from ._arrays import _as_uint8_image, _symmetric_limit

#: default colormap of signed attributions (blue < 0 < red, white at 0)
DIVERGING_CMAP = "RdBu_r"
#: default colormap of non-negative maps (CAMs)
MAP_CMAP = "jet"

_REDUCTIONS = ("sum", "abs_sum", "max_abs")


def _unit_map(cam_map) -> np.ndarray:
    m = np.nan_to_num(np.asarray(cam_map, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.ndim != 2:
        raise ValueError(f"cam_map must be one 2-D map (H, W), got shape {m.shape}")
    return np.clip(m, 0.0, 1.0)


def resize(images, size, interpolation="linear"):
    """Resize images or maps to ``size`` for display or batching.

    Parameters
    ----------
    images : array (H, W), (H, W, C), (N, H, W[, C]) or a list of arrays of different sizes
        A list (or tuple) is treated as a batch of separate images or maps.
    size : int or (H, W)
    interpolation : {"linear", "area", "nearest", "cubic"}

    Returns
    -------
    np.ndarray
        Same dtype; a list input gives one stacked (N, H, W[, C]) array.
    """
    import cv2

    flags = {"linear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA, "nearest": cv2.INTER_NEAREST,
             "cubic": cv2.INTER_CUBIC}
    if interpolation not in flags:
        raise ValueError(f"interpolation must be one of {tuple(flags)}, got {interpolation!r}")
    h, w = (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))
    if isinstance(images, (list, tuple)):
        return np.stack([resize(im, (h, w), interpolation) for im in images])
    a = np.asarray(images)
    if a.ndim == 4 or (a.ndim == 3 and a.shape[-1] not in (1, 3, 4)):  # a batch
        return np.stack([resize(im, (h, w), interpolation) for im in a])
    if a.shape[:2] == (h, w):
        return a.copy()
    dtype = a.dtype
    src = a.astype(np.float32) if a.dtype not in (np.uint8, np.float32) else a
    out = cv2.resize(src, (w, h), interpolation=flags[interpolation])
    if a.ndim == 3 and out.ndim == 2:  # OpenCV drops a single channel axis
        out = out[..., None]
    return out.astype(dtype, copy=False)


def overlay(image_uint8, cam_map, cmap=MAP_CMAP, alpha=0.4):
    """Blend a CAM's colormap over an image.

    ``out = (1 - alpha) * image + alpha * colormap(map)``, with OpenCV's ``applyColorMap``.

    Parameters
    ----------
    image_uint8 : array (H, W, 3)
        RGB image, uint8 (floats in [0, 1] or [0, 255] are converted).
    cam_map : array (h, w)
        Map in [0, 1] (clipped; NaN -> 0). Resized bilinearly to (H, W) if needed.
    cmap : str
        An OpenCV colormap name: "jet", "turbo", "inferno", "viridis", "hot", "magma", ...
    alpha : float in [0, 1]
        Weight of the colormap.

    Returns
    -------
    np.ndarray
        uint8 RGB (H, W, 3).
    """
    import cv2

    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    img = _as_uint8_image(image_uint8)
    m = _unit_map(cam_map)
    if m.shape != img.shape[:2]:
        m = np.clip(resize(m, img.shape[:2]), 0.0, 1.0)
    code = getattr(cv2, f"COLORMAP_{str(cmap).upper()}", None)
    if code is None:
        names = sorted(n[9:].lower() for n in dir(cv2) if n.startswith("COLORMAP_"))
        raise ValueError(f"unknown OpenCV colormap {cmap!r}; choose one of {', '.join(names)}")
    heat = cv2.applyColorMap(np.rint(m * 255.0).astype(np.uint8), code)[..., ::-1]  # BGR -> RGB
    out = (1.0 - alpha) * img.astype(np.float32) + alpha * heat.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def attribution_to_map(attr, reduce="sum"):
    """Collapse the channel axis of attributions into one map per sample.

    Parameters
    ----------
    attr : array (N, H, W, C) (or any shape with channels last, e.g. (N, T, C))
    reduce : {"sum", "abs_sum", "max_abs"}
        "sum": signed Σ_c a (keeps IG's completeness); "abs_sum": Σ_c |a|;
        "max_abs": max_c |a|. The last two are non-negative.

    Returns
    -------
    np.ndarray
        float32 (N, H, W).
    """
    if reduce not in _REDUCTIONS:
        raise ValueError(f"reduce must be one of {_REDUCTIONS}, got {reduce!r}")
    a = np.asarray(attr, dtype=np.float32)
    if a.ndim < 2:
        raise ValueError(f"attr must have a channel axis last, e.g. (N, H, W, C); got {a.shape}")
    if reduce == "sum":
        return a.sum(-1, dtype=np.float32)
    if reduce == "abs_sum":
        return np.abs(a).sum(-1, dtype=np.float32)
    return np.abs(a).max(-1)


def display_map(result, returns="map", percentile=99.0):
    """What to show of any method's result: one map per sample in [0, 1], for :func:`overlay`
    (the command line, the demo and the widgets all use this).

    Parameters
    ----------
    result : array (N, H, W) / (N, T) for a map, or the input's shape for an attribution
    returns : {"map", "attribution"}
        What the method returns (``xai.METHODS[name].returns``). A map (CAMs, RISE, SISE) is
        shown as it is, clipped to [0, 1]. An attribution is reduced to Σ_c |a| and divided by
        its ``percentile`` per sample, so that a small attribution (guided backprop peaks near
        1e-3) still spans the colour range; the few pixels above it saturate.
    percentile : float in (0, 100]
        100 divides by the maximum. An all-zero map stays zero.

    Returns
    -------
    np.ndarray
        float32 (N, H, W) / (N, T) in [0, 1]; NaN and ±inf show as 0.
    """
    if returns not in ("map", "attribution"):
        raise ValueError(f"returns must be 'map' or 'attribution', got {returns!r}")
    if not 0.0 < float(percentile) <= 100.0:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    a = np.asarray(result, dtype=np.float32)
    if returns == "attribution":
        a = attribution_to_map(a, "abs_sum")
        a = np.stack([m / _symmetric_limit(m, percentile) for m in a]) if len(a) else a
    a = np.where(np.isfinite(a), a, 0.0)
    return np.clip(a, 0.0, 1.0).astype(np.float32)



def colormap_stops(cmap=MAP_CMAP, n=17) -> list:
    """``n`` colours of the OpenCV colormap :func:`overlay` uses, as "#rrggbb" for the values
    0, 1/(n − 1), …, 1: a colour bar drawn elsewhere (the demo page's CSS gradient) then
    matches the overlays exactly."""
    if int(n) < 2:
        raise ValueError(f"n must be at least 2 (both ends of the colour bar), got {n}")
    ramp = np.linspace(0.0, 1.0, int(n), dtype=np.float32)[None]
    rgb = overlay(np.zeros((1, int(n), 3), np.uint8), ramp, cmap, alpha=1.0)[0]
    return ["#{:02x}{:02x}{:02x}".format(*c) for c in rgb.tolist()]
