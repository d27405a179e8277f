"""Part 2's combinations of Integrated Gradients with class activation maps.

Pure array functions on NumPy float32, batched over the first axis; no model is run here.
Every function keeps signed floats (no uint8 cast, so nothing wraps around) and pairs the i-th
CAM with the i-th IG: give each method its own CAM and each image its own IG.

* *direct* (experiment 1): ``CAM ⊙ Σ_c IG`` -- the CAM gates where IG's signed evidence counts.
* *indirect* (experiment 2): first ``IG ⊙ image`` (IG weighted by the displayed pixel
  intensities), then combined with the CAM as a product (:func:`indirect_product`) or blended
  with it for display (:func:`indirect_overlay`).
"""
from __future__ import annotations

import numpy as np

__all__ = ["direct", "indirect", "indirect_product", "indirect_overlay"]

_TOL = 1e-4  # slack on the [0, 1] range of CAMs (float round-off from resizing)


def _finite(a, name):
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf values")
    return a


def _cam(cam, name="cam"):
    c = np.asarray(cam, dtype=np.float32)
    if c.ndim != 3:
        raise ValueError(f"{name} must be a batch of maps (N, H, W), got shape {c.shape}; "
                         "for one map use cam[None]")
    _finite(c, name)
    if c.size and (c.min() < -_TOL or c.max() > 1 + _TOL):
        raise ValueError(f"{name} must be in [0, 1] (got [{c.min():.3g}, {c.max():.3g}]): use CAMs "
                         "from xai.explain with the default normalize=True")
    return np.clip(c, 0.0, 1.0)


def _attr(a, name):
    a = np.asarray(a, dtype=np.float32)
    if a.ndim != 4:
        raise ValueError(f"{name} must be a batch of attributions (N, H, W, C), got shape "
                         f"{a.shape}; for one sample use {name}[None]")
    return _finite(a, name)


def _same_grid(cam, other, what):
    if cam.shape != other.shape[:3]:
        raise ValueError(f"cam has shape {cam.shape} but {what} has shape {other.shape}: they "
                         "need the same N, H, W, one CAM per sample. Compute the CAM with "
                         "upsample=True (the default) on the same batch, or resize it.")


def _channel_sum(a, name):
    """(N, H, W, C) -> Σ_c; (N, H, W) passes through."""
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 4:
        return _finite(a, name).sum(-1, dtype=np.float32)
    if a.ndim == 3:
        return _finite(a, name)
    raise ValueError(f"{name} must be (N, H, W, C) or channel-summed (N, H, W), got {a.shape}")


def direct(cam_map, ig):
    """Experiment 1: a CAM gating Integrated Gradients, ``cam ⊙ Σ_c ig``.

    Parameters
    ----------
    cam_map : array (N, H, W)
        CAMs in [0, 1], one per sample (at the input resolution).
    ig : array (N, H, W, C)
        Signed IG attributions of the same samples.

    Returns
    -------
    np.ndarray
        float32 (N, H, W), signed.
    """
    cam = _cam(cam_map, "cam_map")
    a = _attr(ig, "ig")
    _same_grid(cam, a, "ig")
    return cam * a.sum(-1, dtype=np.float32)


def indirect(ig, image):
    """Experiment 2, first step: ``ig ⊙ image``, IG weighted by pixel intensities.

    Parameters
    ----------
    ig : array (N, H, W, C)
        Signed IG attributions.
    image : array (N, H, W, C)
        The image the attributions explain. Part 2 uses the *displayed* RGB image scaled to
        [0, 1] (``uint8 / 255``); a uint8 array is converted that way here. A float array is
        used as given (e.g. the model-space input, which gives an "IG × input" variant).

    Returns
    -------
    np.ndarray
        float32 (N, H, W, C), signed; values are not clipped or wrapped.
    """
    a = _attr(ig, "ig")
    img = np.asarray(image)
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    if img.shape != a.shape:
        raise ValueError(f"image has shape {img.shape} but ig has shape {a.shape}: give the "
                         "image batch the attributions were computed on, at the same size")
    return a * _finite(img, "image")


def indirect_product(ig_x_image, cam):
    """Experiment 2, product: ``cam ⊙ Σ_c (ig ⊙ image)``.

    Parameters
    ----------
    ig_x_image : array (N, H, W, C) or (N, H, W)
        Output of :func:`indirect` (channels summed here if present).
    cam : array (N, H, W) in [0, 1]

    Returns
    -------
    np.ndarray
        float32 (N, H, W), signed.
    """
    c = _cam(cam)
    m = _channel_sum(ig_x_image, "ig_x_image")
    _same_grid(c, m, "ig_x_image")
    return c * m


def indirect_overlay(ig_x_image, cam, alpha=0.5, percentile=100.0):
    """Experiment 2, overlay: a float blend of ``ig ⊙ image`` and the CAM, for display.

    ``(1 - alpha) * s + alpha * cam`` where ``s = Σ_c (ig ⊙ image)`` divided per sample by its
    max |s| (or the ``percentile`` of |s|) and clipped to [-1, 1] (0 stays 0; an all-zero map
    stays zero). The result lies in
    [-(1 - alpha), 1]; show it with a diverging colormap. It is a picture, not an attribution:
    it does not keep IG's completeness.

    Parameters
    ----------
    ig_x_image : array (N, H, W, C) or (N, H, W)
    cam : array (N, H, W) in [0, 1]
    alpha : float in [0, 1]
        Weight of the CAM.
    percentile : float in (0, 100]
        Scale of ``s``: 100 is max |s|; e.g. 99 lets the top 1 % saturate so that the rest of
        IG stays visible next to the CAM.

    Returns
    -------
    np.ndarray
        float32 (N, H, W).
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    c = _cam(cam)
    m = _channel_sum(ig_x_image, "ig_x_image")
    _same_grid(c, m, "ig_x_image")
    if not 0.0 < float(percentile) <= 100.0:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    flat = np.abs(m).reshape(len(m), -1)
    scale = (np.percentile(flat, percentile, axis=1) if flat.shape[1] else np.zeros(len(m)))
    scale = np.where(scale > 0, scale, flat.max(1, initial=0.0))  # a sparse map: use its max
    scale = np.where(scale > 0, scale, 1.0).reshape(-1, 1, 1)
    s = np.clip(m / scale, -1.0, 1.0)
    return ((1.0 - alpha) * s + alpha * c).astype(np.float32)
