"""Chunking with an optional progress bar, and seeded random generators."""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm


def check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def chunks(n: int, batch_size: int, progress: bool = True, desc: str = ""):
    """Yield slices of range(n) of at most batch_size; a progress bar when there are several."""
    batch_size = check_batch_size(batch_size)
    starts = range(0, n, batch_size)
    if progress and len(starts) > 1:
        starts = tqdm(starts, desc=desc, unit="batch", leave=False)
    for start in starts:
        yield slice(start, min(start + batch_size, n))


def seeded_rng(seed) -> np.random.Generator:
    """A NumPy generator; the same seed gives the same numbers whatever the batch size."""
    return np.random.default_rng(seed)
