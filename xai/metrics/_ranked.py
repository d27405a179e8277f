"""Helpers shared by the faithfulness metrics (:mod:`.confidence`, :mod:`.deletion` and the
tables of :mod:`.faithfulness`): the target scores of inputs that show ``x`` on their
top-ranked points only (or everywhere but there), and the means of per-sample terms. Private to
the metrics package: its underscore names are the faithfulness modules' to share.
"""
from __future__ import annotations

import numpy as np

from ._scoring import masked_scores


def _per_point(a: np.ndarray, npts: int) -> np.ndarray:
    """A contiguous input as ``npts`` opaque items, each one point's channels: fancy indexing
    then copies a point at a time, not a value at a time."""
    item = np.dtype((np.void, a.itemsize * (a.size // npts)))
    return a.reshape(npts, -1).view(item).reshape(npts)


def _ranked_scores(fn, x, base, order, counts, targets, keep, batch_size):
    """Target scores (N, len(counts)) of copy (i, j) of x[i] showing x on the ``counts[j]``
    top-ranked points (``order``: :func:`point_order`) and ``base`` elsewhere (``keep``), or
    the reverse (selection by mask).

    A copy holds exactly the values of ``np.where(rank < count, top, rest)``, built by index:
    from the sample's previous copy in the batch plus its newly added points, else from the
    source with more points plus the other source's points."""
    counts = np.asarray(counts, np.int64)
    npts = order.shape[1]
    top, rest = (x, base) if keep else (base, x)
    dtype = np.result_type(x.dtype, base.dtype)

    def build(i, j):
        out = np.empty((len(i),) + x.shape[1:], dtype)
        for k, (s, c) in enumerate(zip(i, counts[j])):
            prev = counts[j[k - 1]] if k and i[k - 1] == s else npts + 1
            if prev <= c:
                out[k], points, src = out[k - 1], order[s, prev:c], top[s]
            elif c <= npts - c:
                out[k], points, src = rest[s], order[s, :c], top[s]
            else:
                out[k], points, src = top[s], order[s, c:], rest[s]
            _per_point(out[k], npts)[points] = _per_point(
                np.ascontiguousarray(src, dtype), npts)[points]
        return out

    return masked_scores(fn, targets, len(x), len(counts), build, batch_size)


def _means(terms: dict) -> dict:
    return {name: float(np.mean(v)) for name, v in terms.items()}
