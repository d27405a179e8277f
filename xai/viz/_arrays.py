"""Array helpers shared by :mod:`xai.viz.overlay` and :mod:`xai.viz.figures`: an image as uint8
RGB and the symmetric colour limit ±max|a| of a map. Private to the :mod:`xai.viz` package."""
from __future__ import annotations

import numpy as np


def _as_uint8_image(image) -> np.ndarray:
    """uint8 RGB (H, W, 3) from uint8, float in [0, 1] or float in [0, 255]; gray -> RGB."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3 or img.shape[-1] not in (1, 3, 4):
        raise ValueError(f"image must be (H, W, 3) RGB (or (H, W) gray), got shape {img.shape}")
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    img = img[..., :3]
    if img.dtype == np.uint8:
        return img
    img = np.nan_to_num(img.astype(np.float32))
    if img.max(initial=0.0) <= 1.0:
        img = img * 255.0
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _symmetric_limit(a, percentile=None) -> float:
    """max|a| (or its ``percentile``); 1 for an all-zero map, which then shows as white."""
    a = np.abs(np.asarray(a, dtype=np.float32))
    a = a[np.isfinite(a)]
    if not a.size:
        return 1.0
    m = float(a.max() if percentile is None else np.percentile(a, percentile))
    if not m > 0:  # e.g. a sparse map whose percentile is 0: fall back to the max
        m = float(a.max())
    return m if m > 0 else 1.0

