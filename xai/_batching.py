"""Chunking with an optional progress bar, and seeded random generators."""
from __future__ import annotations

import os

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm


def check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def chunks(n: int, batch_size: int, progress=True, desc: str = ""):
    """Yield slices of range(n) of at most batch_size; a progress bar when there are several.
    ``progress`` may also be a callable ``progress(done, total)``, called after each chunk (the
    browser demo's progress bar)."""
    batch_size = check_batch_size(batch_size)
    starts = range(0, n, batch_size)
    shown = progress if callable(progress) or len(starts) > 1 else False
    with progress_bar(shown, len(starts), desc) as bar:
        for start in starts:
            yield slice(start, min(start + batch_size, n))
            bar.update()


def progress_bar(progress, total=0, desc: str = "", unit: str = "batch", leave: bool = False):
    """The one progress bar of the package: tqdm for ``progress=True`` (silent when the
    environment variable TQDM_DISABLE is set to anything but 0 or false, read at each call),
    nothing for False, and for a callable ``progress(done, total)`` a bar that calls it on each
    update. Use it as a context manager; ``bar.total`` may grow while it runs."""
    if callable(progress):
        return _CallbackBar(progress, total)
    quiet = os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false")
    return tqdm(total=total, desc=desc, unit=unit, leave=leave, disable=quiet or not progress)


class _CallbackBar:
    """tqdm's update / total / set_postfix_str, reported to ``callback(done, total)``."""

    def __init__(self, callback, total):
        self.callback, self.total, self.n = callback, total, 0

    def update(self, k: int = 1):
        self.n += k
        self.callback(self.n, self.total)

    def set_postfix_str(self, text: str):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def per_chunk(fn, x, targets, batch_size: int, progress: bool = True, desc: str = ""):
    """``fn(x[s], targets[s])`` for each chunk of at most batch_size samples, concatenated as
    NumPy. A batch that fits in one chunk is passed whole: no slicing, no concatenation copy."""
    n = len(targets)
    if n <= check_batch_size(batch_size):
        return np.asarray(fn(x, targets))
    return np.concatenate([np.asarray(fn(x[s], targets[s]))
                           for s in chunks(n, batch_size, progress, desc)])


def seeded_rng(seed) -> np.random.Generator:
    """A NumPy generator; the same seed gives the same numbers whatever the batch size."""
    return np.random.default_rng(seed)


def noisy_mean(chunk_fn, x, targets, n: int, spread: float, seed, batch_size: int,
               progress: bool = True, desc: str = "") -> np.ndarray:
    """Mean over ``n`` noisy copies x + N(0, σ²), σ = spread · (max(x) − min(x)) per sample, of
    a per-copy quantity, batch_size copies at a time. ``chunk_fn`` is a compiled
    :func:`noisy_sum_chunk` (it builds the copies, evaluates them and sums them per sample in
    one graph). The n seeded noise draws are shared by all samples, so a sample's result does
    not depend on the batch size or on the other samples in the batch."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n (the number of noisy copies) must be a positive integer, got {n!r}")
    if spread < 0:
        raise ValueError(f"spread must be ≥ 0, got {spread}")
    x = tf.convert_to_tensor(x, tf.float32)
    flat = tf.reshape(x, (x.shape[0], -1))
    sigma = spread * (tf.reduce_max(flat, 1) - tf.reduce_min(flat, 1))
    sigma = tf.reshape(sigma, (-1,) + (1,) * (len(x.shape) - 1))
    noise = tf.constant(seeded_rng(seed).standard_normal((n,) + tuple(x.shape[1:]), np.float32))
    owner, copy = np.divmod(np.arange(int(x.shape[0]) * n), n)
    total = None
    for s in chunks(len(owner), batch_size, progress, desc):
        idx = owner[s]
        part = chunk_fn(x, noise, sigma, idx, copy[s], targets[idx]).numpy()
        if total is None:
            total = np.zeros((int(x.shape[0]),) + part.shape[1:], np.float64)
        total[idx[0]:idx[0] + len(part)] += part
    return total / n


def noisy_sum_chunk(x, noise, sigma, idx, copy, t, *, fn):
    """In one graph: Σ over a chunk's copies of ``fn(x[idx] + noise[copy] · σ[idx], t)`` per
    sample, indexed from the chunk's first sample (a chunk covers consecutive samples)."""
    xb = tf.gather(x, idx) + tf.gather(noise, copy) * tf.gather(sigma, idx)
    return tf.math.unsorted_segment_sum(fn(xb, t), idx - idx[0], idx[-1] - idx[0] + 1)
