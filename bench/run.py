#!/usr/bin/env python
"""Benchmark xai against tf-keras-vis and xplique, and against hardware floors.

Run inside bench/.venv (built by bench/setup.sh); writes bench/results.md.

    python bench/run.py            # full run (~30 min on 2 CPU cores)
    python bench/run.py --quick    # sanity run: MobileNet batch 1, 2 timed runs, few masks

What is timed
-------------
Every contender is called once untimed (the "first call": tracing, probe building, model
rebuilding), once more untimed when that is cheap, then timed ``--runs`` times; the contenders of
one table row are timed round-robin (rotating the order every round) so that load from other
processes on the machine hits them alike. The table gives medians in milliseconds. Heavy rows
(one call > ``HEAVY_S`` seconds) get ``--heavy-runs`` timed runs instead; fast rows (all calls
< ``FAST_S``) get at least ``FAST_RUNS``, as a median of a few 10 ms calls is mostly noise.

Floors are plain ``tf.function`` calls of a linear-head copy of the model (training=False):
``fwd`` a forward pass of the batch; ``grad×k`` k input-gradient evaluations d(logit)/dx per
sample, batched in chunks of the same batch_size the explainer uses (k = 64 is the Integrated
Gradients floor). Each row's floor is timed round-robin with the contenders of that row; floors
marked "est." run 8 chunks and are scaled to the full number of chunks (RISE, Score-CAM).

Peak memory of xai's Integrated Gradients is measured in fresh subprocesses (``ru_maxrss``).

This file is the plan's driver (command line, one table after another); the pieces live next to
it: ``environment`` (Keras cache, machine, versions), ``workload`` (models, layers, inputs),
``timing`` (round-robin timing of a row), ``floors``, ``peers`` (xai and the peer libraries'
calls), ``memprobe``, ``plan`` (tables, settings, targets) and ``report`` (bench/results.md).
"""
from __future__ import annotations

import argparse
import shutil
import time

from environment import HERE, keras_home_source, library_versions, setup_keras_home
from floors import Floors, floor_for
from memprobe import ig_memory, memprobe
from peers import peers_for, xai_call
from plan import method_options, plan, settings, timed_runs
from report import write_results
from timing import time_row
from workload import LAYERS, build_model, linear_copy, make_inputs


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fast sanity run (MobileNet, batch 1)")
    ap.add_argument("--heavy", action="store_true",
                    help="also VGG16 Score-CAM/RISE and more VGG16 batch-16 rows (hours)")
    ap.add_argument("--runs", type=int, default=None, help="timed runs per row (default 5)")
    ap.add_argument("--heavy-runs", type=int, default=None,
                    help="timed runs for rows slower than 4 s a call (default 3)")
    ap.add_argument("--out", default=str(HERE / "results.md"))
    ap.add_argument("--memprobe", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.memprobe:
        return memprobe(args.memprobe)

    t_start = time.time()
    kh = setup_keras_home()
    if kh is not None:
        import atexit
        atexit.register(shutil.rmtree, kh, True)
    import keras
    import tensorflow as tf
    keras.utils.disable_interactive_logging()
    versions = library_versions(tf, keras)
    runs = timed_runs(args)
    cfg = settings(args.quick, args.heavy)

    def log(msg):
        print(f"[{time.time() - t_start:7.1f}s] {msg}", flush=True)

    log(f"versions: {versions}")
    tables, notes = run_plan(args, cfg, kh is not None, runs, log)
    mem = ig_memory(args.quick, cfg["ig_bs"], log) if kh is not None else None
    write_results(args, versions, cfg, tables, notes, mem, time.time() - t_start, *runs)
    log(f"wrote {args.out}")


def run_plan(args, cfg, have_weights: bool, runs, log):
    """Time every table of the plan; keeps one model (and its linear-head copy) in memory at a
    time. Returns (tables, notes)."""
    import keras
    tables, notes = [], []
    models = {}
    for model_name, batch, methods in plan(args.quick, args.heavy):
        if model_name == "MobileNet" and not have_weights:
            notes.append(f"MobileNet skipped: no weights at {keras_home_source()}/models "
                         "(set XAI_BENCH_KERAS_HOME).")
            continue
        if model_name not in models:
            for other in list(models):  # keep one model pair in memory at a time
                del models[other]
            keras.backend.clear_session()
            m = build_model(model_name)
            models[model_name] = (m, linear_copy(m))
        model, lin = models[model_name]
        tables.append(time_table(model_name, batch, methods, model, lin, cfg, runs, notes, log))
    return tables, notes


def time_table(model_name, batch, methods, model, lin, cfg, runs, notes, log):
    """One table: every method of ``methods`` against its peers and floor on ``batch`` inputs.
    ``runs`` = (timed runs, heavy-row runs); a peer's note goes to ``notes``. Returns
    (model_name, batch, floor ms by floor label, rows)."""
    import numpy as np

    import xai
    layer = LAYERS[model_name]
    x = make_inputs(model_name, batch)
    targets = np.argmax(lin(x, training=False).numpy(), 1).astype(int)
    floors = Floors(lin)
    log(f"{model_name} batch {batch}: floors")
    fl = {}
    rows = []
    channels = int(model.get_layer(layer).output.shape[-1])
    for method in methods:
        log(f"{model_name} batch {batch}: {method}")
        fkey, ffn, fscale = floor_for(method, floors, x, targets, cfg, channels)
        opts = method_options(method, cfg)
        tkv, xpl, note = peers_for(method, lin, model, x, targets, layer, cfg)
        if note and note not in notes:
            notes.append(note)
        contenders = {"xai": xai_call(xai, model, x, method, layer, targets, **opts),
                      "tf-keras-vis": tkv, "xplique": xpl, "floor": ffn}
        res = time_row(contenders, *runs, log)
        fres = res.pop("floor", {})
        fval = fres["median"] * fscale if "median" in fres else None
        rows.append((method, res, fkey, fval))
        fl.setdefault(fkey, fval)
        del contenders, tkv, xpl, ffn
    return model_name, batch, fl, rows


if __name__ == "__main__":
    main()
