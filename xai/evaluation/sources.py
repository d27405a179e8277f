"""Where the samples of an evaluation come from: a :class:`Source` cuts them into shards of
consecutive samples, each with its ids, labels, inputs (in the model's input space) and, when
known, object regions for the localisation metrics."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np


@dataclass
class Shard:
    """Samples ``ids`` with ``labels`` (−1: unknown); ``load()`` gives their inputs (N, ...)
    float32 and ``regions()`` their boolean object regions or None."""
    index: int
    ids: list
    labels: np.ndarray
    load: Callable[[], np.ndarray]
    regions: Callable[[], np.ndarray | None]


@dataclass
class Source:
    """Samples addressed by position: ``ids`` (unique strings), ``labels`` (int, −1 unknown),
    ``load(indices) -> x`` and optionally ``regions(indices) -> bool (N, H, W)``.

    Streams (:func:`from_dataset`, :func:`from_iterable`) have no length up front; they set
    ``stream`` instead and are read once, in order.
    """
    ids: list | None = None
    labels: np.ndarray | None = None
    load: Callable[[np.ndarray], np.ndarray] | None = None
    regions: Callable[[np.ndarray], np.ndarray] | None = None
    stream: Callable[[], Iterator] | None = None
    description: str = ""

    def __post_init__(self):
        if self.ids is not None:
            self.ids = [str(i) for i in self.ids]
            if len(set(self.ids)) != len(self.ids):
                raise ValueError("sample ids must be unique (they seed each sample and pair "
                                 "methods on the same samples)")
            labels = np.full(len(self.ids), -1) if self.labels is None else self.labels
            self.labels = np.asarray(labels, np.int64).reshape(-1)
            if len(self.labels) != len(self.ids):
                raise ValueError(f"{len(self.labels)} labels for {len(self.ids)} samples")

    def __len__(self) -> int:
        if self.ids is None:
            raise TypeError("a stream source has no length until it is read")
        return len(self.ids)

    def subset(self, ids) -> "Source":
        """The same source restricted to ``ids`` (in this source's order)."""
        wanted = {str(i) for i in ids}
        missing = wanted - set(self.ids or ())
        if missing:
            raise ValueError(f"{len(missing)} id(s) not in the source, e.g. {sorted(missing)[:3]}")
        keep = np.array([i for i, s in enumerate(self.ids) if s in wanted], np.int64)
        return Source([self.ids[i] for i in keep], self.labels[keep],
                      lambda idx: self.load(keep[idx]),
                      None if self.regions is None else lambda idx: self.regions(keep[idx]),
                      description=self.description)

    def shards(self, size: int) -> Iterator[Shard]:
        """Consecutive shards of ``size`` samples (the last one may be shorter)."""
        if self.stream is not None:
            yield from _stream_shards(self.stream(), size)
            return
        for k, start in enumerate(range(0, len(self.ids), size)):
            idx = np.arange(start, min(start + size, len(self.ids)))
            yield Shard(k, self.ids[start:idx[-1] + 1], self.labels[idx],
                        (lambda idx=idx: np.asarray(self.load(idx), np.float32)),
                        (lambda idx=idx: None if self.regions is None else self.regions(idx)))


def from_arrays(x, labels=None, ids=None, regions=None, description="arrays") -> Source:
    """Inputs already in memory: ``x`` (N, ...) in the model's input space, optional ``labels``
    (N,), ``ids`` (N,) (default "0", "1", …) and boolean ``regions`` (N, H, W)."""
    x = np.asarray(x, np.float32)
    ids = [str(i) for i in range(len(x))] if ids is None else list(ids)
    if len(ids) != len(x):
        raise ValueError(f"{len(ids)} ids for {len(x)} samples")
    reg = None if regions is None else np.asarray(regions, bool)
    return Source(ids, labels, lambda idx: x[idx],
                  None if reg is None else (lambda idx: reg[idx]), description=description)


def from_files(paths, labels, load, ids=None, regions=None, description="files") -> Source:
    """Files read a shard at a time: ``load(list of paths) -> x`` (N, ...) in the model's input
    space (decode, crop, resize, preprocess). ``ids`` default to the file names' stems."""
    paths = list(paths)
    ids = [getattr(p, "stem", str(p)) for p in paths] if ids is None else list(ids)
    return Source(ids, labels, lambda idx: load([paths[i] for i in idx]),
                  regions, description=description)


def from_dataset(dataset, description="tf.data.Dataset") -> Source:
    """A ``tf.data.Dataset`` of single samples ``(x, label)`` or ``x`` (call ``.unbatch()`` on a
    batched one); read in order with TensorFlow's own prefetching. Ids are the positions."""
    def stream():
        import tensorflow as tf
        for element in dataset.prefetch(tf.data.AUTOTUNE).as_numpy_iterator():
            yield element
    return Source(stream=stream, description=description)


def from_iterable(samples: Iterable, description="iterable") -> Source:
    """Any iterable (a generator, a list) of ``(x, label)`` pairs or of ``x`` alone, one sample
    at a time, read once and in order. Ids are the positions."""
    return Source(stream=lambda: iter(samples), description=description)


def _stream_shards(iterator, size: int) -> Iterator[Shard]:
    k, start, xs, ys = 0, 0, [], []
    for element in iterator:
        x, y = element if isinstance(element, tuple) and len(element) == 2 else (element, -1)
        xs.append(np.asarray(x, np.float32))
        ys.append(int(np.asarray(y).reshape(-1)[0]) if np.size(y) else -1)
        if len(xs) == size:
            yield _stream_shard(k, start, xs, ys)
            k, start, xs, ys = k + 1, start + size, [], []
    if xs:
        yield _stream_shard(k, start, xs, ys)


def _stream_shard(k, start, xs, ys) -> Shard:
    x = np.stack(xs)
    return Shard(k, [str(start + i) for i in range(len(xs))], np.asarray(ys, np.int64),
                 lambda: x, lambda: None)
