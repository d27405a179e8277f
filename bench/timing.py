"""Timing one table row: every contender is called once untimed (plus a warm-up when cheap),
then all are timed round-robin, rotating the order each round; the number of timed runs depends
on how slow the row's slowest first call was (the thresholds below, quoted by the report)."""
from __future__ import annotations

import contextlib
import io
import statistics
import time

HEAVY_S = 4.0          # a call slower than this gets --heavy-runs timed runs
VERY_HEAVY_S = 20.0    # a call slower than this gets 2 timed runs
CHEAP_S = 1.0          # a call faster than this gets a second warm-up call
FAST_S = 0.25          # a row whose slowest call is faster than this gets FAST_RUNS timed runs
FAST_RUNS = 25


def quiet(fn):
    """Run fn with stdout/stderr captured (tf-keras-vis' Score-CAM prints predict() bars)."""
    def run():
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return fn()
    return run


def _call(fn) -> float:
    t0 = time.perf_counter()
    out = fn()
    if hasattr(out, "numpy"):
        out.numpy()
    return time.perf_counter() - t0


def time_row(contenders: dict, runs: int, heavy_runs: int, log) -> dict:
    """contenders: name -> zero-arg callable. Returns name -> dict(first, median, runs, error)."""
    res, live = {}, {}
    for name, fn in contenders.items():
        if fn is None:
            continue
        try:
            first = _call(fn)
        except Exception as e:  # a peer that cannot run this row: record why, keep going
            msg = f"{type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"
            res[name] = {"error": msg}
            log(f"    {name}: FAILED {msg}")
            continue
        if first < CHEAP_S:
            _call(fn)
        res[name] = {"first": first}
        live[name] = fn
    if not live:
        return res
    slowest = max(res[n]["first"] for n in live)
    n_runs = runs if slowest < HEAVY_S else min(runs, heavy_runs)
    if slowest < FAST_S:  # a median of 5 calls of ~10 ms is mostly scheduler noise
        n_runs = max(n_runs, FAST_RUNS)
    if slowest >= VERY_HEAVY_S:
        n_runs = min(n_runs, 2)
    times = {n: [] for n in live}
    names = list(live)
    for r in range(n_runs):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            times[n].append(_call(live[n]))
    for n in live:
        res[n].update(median=statistics.median(times[n]), runs=n_runs, all=times[n])
    log("    " + ", ".join(f"{n} {res[n]['median'] * 1e3:.0f} ms" for n in live))
    return res
