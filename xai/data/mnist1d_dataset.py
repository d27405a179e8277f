"""MNIST-1D (Greydanus 2020), generated offline with the mnist1d package and cached."""
from __future__ import annotations

import os
import random
import tempfile

import numpy as np

from ._files import resolve_dir

__all__ = ["mnist1d"]

_MNIST1D_CACHE = "mnist1d_canonical.npz"


def _make_mnist1d() -> dict:
    """Generate the canonical MNIST-1D split with the mnist1d package, offline.

    ``mnist1d.data.make_dataset`` reseeds Python's and NumPy's global random generators; their
    states are restored afterwards so that loading data never changes a caller's random stream.
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "MNIST-1D needs the `mnist1d` package: pip install mnist1d"
        ) from err
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return {
        "x_train": np.asarray(d["x"], np.float32)[..., None],
        "y_train": np.asarray(d["y"], np.int64),
        "x_test": np.asarray(d["x_test"], np.float32)[..., None],
        "y_test": np.asarray(d["y_test"], np.int64),
        "t": np.asarray(d["t"], np.float32),
    }


def mnist1d(cache_dir="data/") -> dict:
    """The canonical MNIST-1D dataset (Greydanus 2020), generated offline.

    Calls ``mnist1d.data.make_dataset(get_dataset_args())`` -- the package's default arguments:
    5000 signals, seed 42, 80/20 split, length 40 -- never ``get_dataset`` (which downloads).

    Parameters
    ----------
    cache_dir : str or Path or None
        Folder for a ``.npz`` cache of the generated arrays. Relative paths are taken from the
        repository root (``data/`` by default, which git ignores). ``None`` disables caching.

    Returns
    -------
    dict
        ``x_train`` float32 (4000, 40, 1), ``y_train`` int64 (4000,), ``x_test`` float32
        (1000, 40, 1), ``y_test`` int64 (1000,), ``t`` float32 (40,) (the sample positions).
    """
    keys = ("x_train", "y_train", "x_test", "y_test", "t")
    cache = None if cache_dir is None else resolve_dir(cache_dir) / _MNIST1D_CACHE
    if cache is not None and cache.is_file():
        try:
            with np.load(cache) as z:
                data = {k: z[k] for k in keys}
            if data["x_train"].shape == (4000, 40, 1) and data["x_test"].shape == (1000, 40, 1):
                return data
        except Exception:  # corrupt or partial cache: regenerate below
            pass
    data = _make_mnist1d()
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            # write to a temporary file then rename, so concurrent readers never see half a file
            fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".npz.tmp")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **data)
            os.replace(tmp, cache)
        except OSError:  # read-only checkout: caching is only an optimisation
            pass
    return data
