"""Map helpers shared by the methods: resizing, clean-up and per-sample scaling of (N, *s) maps,
and the feature-map masks of Score-CAM and SISE."""
from __future__ import annotations

import numpy as np
import tensorflow as tf


def upsample(maps, size):
    """Bilinear resize of (B, *s) maps to spatial ``size`` (1-D, 2-D or 3-D: trilinear, as
    bilinear over (H, W), then linear over D), half-pixel centres."""
    if len(size) == 1:
        return tf.image.resize(maps[:, :, None, None], (size[0], 1), "bilinear")[:, :, 0, 0]
    if len(size) == 3:
        depth, plane = maps.shape[1], size[1] * size[2]
        m = upsample(tf.reshape(maps, (-1,) + tuple(maps.shape[2:])), size[1:])
        m = upsample(tf.reshape(m, (-1, depth, plane)), (size[0], plane))
        return tf.reshape(m, (-1,) + tuple(size))
    return tf.image.resize(maps[..., None], size, "bilinear")[..., 0]


def finish(maps, size=None, normalize=True):
    """Upsample to ``size`` (None: keep), zero any non-finite value, scale each map to [0, 1]
    by its maximum (maps here are ≥ 0; a zero map stays zero)."""
    maps = tf.convert_to_tensor(maps, tf.float32)
    if size is not None and tuple(maps.shape[1:]) != tuple(size):
        maps = upsample(maps, size)
    maps = tf.where(tf.math.is_finite(maps), maps, 0.0)
    if normalize:
        axes = list(range(1, len(maps.shape)))
        maps = tf.math.divide_no_nan(maps, tf.reduce_max(maps, axes, keepdims=True))
    return maps


def channel_masks(channels, size):
    """Feature-map channels (B, *s) → masks (B, *size): bilinear upsampling, then min-max
    scaling of each to [0, 1] (a constant channel gives a zero mask). Score-CAM and SISE."""
    m = upsample(channels, size)
    axes = list(range(1, len(m.shape)))
    lo = tf.reduce_min(m, axes, keepdims=True)
    return tf.math.divide_no_nan(m - lo, tf.reduce_max(m, axes, keepdims=True) - lo)


def min_max(maps):
    """Scale each NumPy map to [0, 1] (a constant map becomes zeros; non-finite values zero)."""
    maps = np.where(np.isfinite(maps), maps, 0.0)
    flat = maps.reshape(len(maps), -1)
    lo = flat.min(1).reshape((-1,) + (1,) * (maps.ndim - 1))
    span = flat.max(1).reshape(lo.shape) - lo
    return np.divide(maps - lo, span, out=np.zeros_like(maps), where=span > 0).astype(np.float32)
