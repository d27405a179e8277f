"""The evaluation engine: every method's maps on every shard of a source, every metric on those
maps, one row per sample × method × row metric, shard by shard (memory flat in the number of
samples), resumable, seeded per sample."""
from __future__ import annotations

import hashlib
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .._batching import progress_bar
from .methods import BASELINES, explainer, method_specs, metric_map, passes_table
from .metrics import METRICS, Context
from .shards import (
    COLUMNS,
    atomic_write,
    concat_shards,
    finished_shard,
    load_table,
    open_manifest,
    read_shard,
    run_settings,
    shard_bytes,
    to_json,
    versions,
)
from .sources import Source, from_arrays

#: the public names of the engine, with those it re-exports from :mod:`.methods` and
#: :mod:`.shards` (where they now live)
__all__ = ["evaluate", "sample_seed", "random_maps", "load_table", "passes_table", "metric_map",
           "COLUMNS", "BASELINES"]


def sample_seed(seed: int, sample_id: str, purpose: int = 0) -> int:
    """A sample's own seed, from the run's ``seed`` and the sample's id only (never its
    position): ``purpose`` 0 = its random baseline map, 1 = subset membership, 2 = metrics,
    3 and more = further random maps (:func:`random_maps`)."""
    key = zlib.crc32(str(sample_id).encode())
    return int(np.random.SeedSequence([int(seed), key, int(purpose)]).generate_state(1)[0])


def random_maps(ids, spatial, seed: int, purpose: int = 0) -> np.ndarray:
    """The random baseline: per sample, seeded uniform noise on a coarse grid (7 × 7, or 10
    points for signals) upsampled bilinearly to ``spatial``; seeded by the sample's id.
    ``purpose`` 0 is the baseline map itself; other values (≥ 3, see :func:`sample_seed`)
    give independent draws, e.g. the random "map for another class"."""
    from ..maps import upsample

    coarse = (7, 7) if len(spatial) == 2 else (10,)
    noise = np.stack([np.random.default_rng(sample_seed(seed, i, purpose)).random(coarse)
                      for i in ids]).astype(np.float32)
    return np.asarray(upsample(noise, tuple(spatial)), np.float64)


def _members(ids, seed: int, fraction: float) -> np.ndarray:
    """Which samples a costly method or metric runs on: u(id) < fraction, u uniform and seeded
    by the sample's id, so the subset does not depend on order or sharding."""
    if fraction >= 1:
        return np.ones(len(ids), bool)
    return np.array([np.random.default_rng(sample_seed(seed, i, 1)).random() < fraction
                     for i in ids])


def _check_fractions(subsets: dict, names) -> dict:
    subsets = dict(subsets or {})
    unknown = sorted(set(subsets) - set(names))
    if unknown:
        raise ValueError(f"subsets names {unknown}, which are neither methods nor metrics here: "
                         f"{', '.join(names)}")
    for k, f in subsets.items():
        if isinstance(f, (bool, str)) or not isinstance(f, (int, float, np.number)) \
                or not 0 < float(f) <= 1:
            raise ValueError(f"subsets[{k!r}] must be a fraction in (0, 1], got {f!r}")
    return {k: float(f) for k, f in subsets.items()}


def _check_exclude(exclude, labels) -> list:
    """Sorted (method label, metric) pairs; a metric must be known and a method one of this
    run's labels, a baseline or a registered method (a recipe may name methods it skips)."""
    from ..explain import REGISTRY

    pairs = set()
    for entry in exclude:
        try:
            method, metric = (None, None) if isinstance(entry, str) else map(str, entry)
        except (TypeError, ValueError):
            method = metric = None
        if metric not in METRICS or (method not in labels and method not in BASELINES
                                     and method not in REGISTRY):
            raise ValueError(f"exclude entries are (method, metric) pairs; {entry!r} is not one. "
                             f"Methods: {', '.join([*labels, *BASELINES])}; metrics: "
                             f"{', '.join(METRICS)}.")
        pairs.add((method, metric))
    return sorted(pairs)


def _targets(model, x, labels, target) -> np.ndarray:
    from .. import scores

    if isinstance(target, str) and target == "top1":
        return scores.top_classes(model, x)
    if isinstance(target, str) and target == "label":
        if (labels < 0).any():
            raise ValueError("target='label' needs every sample's label; some are unknown (-1)")
        return labels.copy()
    raise ValueError(f"target must be 'top1' (each sample's predicted class) or 'label', got "
                     f"{target!r}")


def _shard_options(x, metric_options: dict) -> dict:
    """Each metric's options, with ``baseline="blur"`` replaced by the shard's blurred inputs,
    blurred once per shard and sigma rather than once per method and metric."""
    from ..metrics import blurred

    cache, out = {}, {}
    for name, options in metric_options.items():
        options = dict(options)
        if isinstance(options.get("baseline"), str) and options["baseline"] == "blur":
            sigma = float(options.pop("blur_sigma", 5.0))
            if sigma not in cache:
                cache[sigma] = blurred(x, sigma)
            options["baseline"] = cache[sigma]
        out[name] = options
    return out


def _subset_options(options: dict, j: np.ndarray, n: int) -> dict:
    """Per-sample arrays among the options (a cached baseline) restricted to samples ``j``."""
    return {k: (v[j] if isinstance(v, np.ndarray) and v.ndim and len(v) == n else v)
            for k, v in options.items()}


def _shard_rows(model, shard, x, specs, metrics, metric_options, subsets, exclude, seed,
                target, timing, baselines=BASELINES) -> list:
    regions = shard.regions()
    metric_options = _shard_options(x, metric_options)
    targets = _targets(model, x, shard.labels, target)
    seeds = np.array([sample_seed(seed, i, 2) for i in shard.ids], np.int64)
    rows = []
    spatial = x.shape[1:-1]
    entries = [(s.label, s) for s in specs] + [(b, None) for b in baselines]
    for label, spec in entries:
        run = _members(shard.ids, seed, subsets.get(label, 1.0))
        if not run.any():
            continue
        idx = np.flatnonzero(run)
        explain = None if spec is None else explainer(spec, model)
        start = time.perf_counter()
        if spec is None:
            maps = random_maps([shard.ids[i] for i in idx], spatial, seed) \
                if label == "random" else np.ones((len(idx), *spatial))
        else:
            maps = explain(x[idx], targets[idx])
        timing.setdefault(label, []).append((len(idx), time.perf_counter() - start))
        for name in metrics:
            metric = METRICS[name]
            if (metric.reruns and spec is None) or (metric.regions and regions is None) \
                    or (label, name) in exclude:
                continue
            sub = _members([shard.ids[i] for i in idx], seed, subsets.get(name, 1.0))
            if not sub.any():
                continue
            j = idx[sub]
            ctx = Context(model, x[j], targets[j], seed, seeds[j], explain,
                          None if regions is None else regions[j], label,
                          [shard.ids[i] for i in j])
            values = metric.function(ctx, maps[sub], **_subset_options(
                metric_options.get(name, {}), j, len(x)))
            for row_metric, v in values.items():
                rows += [(shard.ids[i], int(shard.labels[i]), int(targets[i]), label,
                          row_metric, float(val)) for i, val in zip(j, np.asarray(v))]
    return rows


def evaluate(model, data, methods=None, metrics=("deletion", "insertion"), out=None, *,
             metric_options=None, subsets=None, exclude=(), target="top1", seed=0,
             shard_size=64, recipe=None, overwrite=False, baselines=BASELINES, progress=True):
    """Evaluate ``methods`` with ``metrics`` on every sample of ``data``, with the ``random``
    and ``constant`` baseline maps; one row per sample × method × row metric.

    Parameters
    ----------
    model : keras.Model
    data : a :class:`~xai.evaluation.Source` (:func:`from_arrays`, :func:`from_files`,
        :func:`from_dataset`, :func:`from_iterable`) or an array (N, ...) of inputs in the
        model's input space.
    methods : None (every registered method), a list of names, or {label: name, (name,
        options) or callable ``f(model, x, target=...)``} -- e.g. ``{"gradcam@mid": ("gradcam",
        {"layer": "conv_pw_6"})}``. Seeded methods get ``seed`` unless their options set one.
    metrics : names of :data:`xai.evaluation.METRICS` (deletion, insertion, drop_increase,
        mufidelity, max_sensitivity, pointing_game, energy_share, ...).
    out : folder for the shards and manifest (None: nothing written, nothing resumed).
    metric_options : {metric: options}, e.g. ``{"deletion": {"steps": 10, "baseline": "blur"}}``.
    subsets : {method label or metric: fraction} -- a costly method or metric runs on the
        samples whose id-seeded uniform draw is below the fraction (about that share of the
        data, the same samples for every costly entry). Give the baselines ("random",
        "constant") the largest fraction of the methods, so every method pairs with them.
    exclude : (method label, metric) pairs not computed (e.g. max-sensitivity of RISE, which
        re-runs 500 masks per perturbation); the manifest lists them. Unknown names are refused
        (a method may also be any registered one, so one recipe serves its sub-runs).
    target : "top1" (each sample's predicted class, on the logits) or "label".
    seed : the run's seed; each sample's own seeds derive from it and the sample's id.
    shard_size : samples per shard (a shard is written whole, or not at all).
    baselines : the baseline maps computed with the methods (both by default; ``()`` for a run
        that adds methods to another run of the same data, whose baselines they pair with).
    recipe : JSON-able facts that rebuild this run (e.g. ``{"study": ..., "setting": ...}``),
        kept in the manifest for the spot check (:mod:`xai.studies`).
    overwrite : start again when ``out`` holds a run with other settings (else a ValueError).
        A finished shard that fails its checksum (edited, damaged) is always computed again.
    progress : a progress bar over the shards, with its time estimate.

    Returns
    -------
    pandas.DataFrame with columns ``sample, label, target, method, metric, value``.
    Time is machine-specific and stays out of the table: ``out/timing.json`` has each method's
    first call (tracing included) and its warm seconds per sample.
    """
    source = data if isinstance(data, Source) else from_arrays(data)
    metrics = list(metrics)
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"Unknown metric(s) {unknown}. Choose from: {', '.join(METRICS)}.")
    metric_options = dict(metric_options or {})
    specs = method_specs(methods, seed)
    baselines = tuple(baselines)
    if not set(baselines) <= set(BASELINES):
        raise ValueError(f"baselines must be among {BASELINES}, got {baselines}")
    subsets = _check_fractions(subsets, [s.label for s in specs] + metrics + list(BASELINES))
    exclude = _check_exclude(exclude, [s.label for s in specs])
    settings = run_settings(model, source, specs, metrics, metric_options, subsets, seed,
                            shard_size, target, baselines)
    settings.update(exclude=[list(e) for e in exclude], recipe=recipe)
    out = None if out is None else Path(out)
    manifest = {"settings": settings, "shards": {}}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        manifest = open_manifest(out, settings, overwrite)
        manifest["versions"] = versions()
    frames, timing = {}, {}  # frames by shard index: the table keeps the source's order
    total = None if source.ids is None else -(-len(source.ids) // shard_size)
    bar = progress_bar(progress, total, source.description or "evaluate", "shard", leave=True)

    def todo():  # the shards still to compute; finished ones (checksum intact) are read back
        for shard in source.shards(shard_size):
            done = None if out is None else finished_shard(out, shard.index, manifest)
            if done is not None:
                frames[shard.index] = read_shard(done)
                bar.update()
            else:
                yield shard

    for shard, x in _prefetched(todo()):
        rows = _shard_rows(model, shard, x, specs, metrics, metric_options, subsets,
                           set(exclude), seed, target, timing, baselines)
        data_bytes = shard_bytes(rows)
        if out is not None:
            name = f"shard-{shard.index:05d}.csv.gz"
            atomic_write(out / name, data_bytes)
            manifest["shards"][name] = {"samples": len(shard.ids),
                                        "sha256": hashlib.sha256(data_bytes).hexdigest()}
            atomic_write(out / "manifest.json", to_json(manifest).encode())
        frames[shard.index] = read_shard(data_bytes)
        bar.update()
        del shard, x  # before the next load starts: one shard computed, one prefetched
    bar.close()
    if out is not None and timing:
        atomic_write(out / "timing.json", to_json(_timing_summary(timing)).encode())
    return concat_shards([frames[k] for k in sorted(frames)])


def _prefetched(shards):
    """(shard, inputs) pairs, the next shard's inputs loaded in a background thread while the
    current one is computed (decoding and resizing overlap the model's work)."""
    with ThreadPoolExecutor(1) as pool:
        pending = None
        for shard in shards:
            future = pool.submit(shard.load)
            if pending is not None:
                yield pending[0], pending[1].result()
            pending = (shard, future)
        if pending is not None:
            yield pending[0], pending[1].result()


def _timing_summary(timing: dict) -> dict:
    """Per method: the first call (tracing included) and the warm seconds per sample."""
    out = {}
    for label, calls in timing.items():
        (n0, t0), rest = calls[0], calls[1:]
        warm = sum(t for _, t in rest) / max(1, sum(n for n, _ in rest)) if rest else None
        out[label] = {"first_call_seconds": t0, "first_call_samples": n0,
                      "warm_seconds_per_sample": warm}
    return {"machine_specific": True, "methods": out}
