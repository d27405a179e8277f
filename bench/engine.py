#!/usr/bin/env python
"""Evaluation engine throughput (make bench, main venv): photos per second of
``xai.evaluation.evaluate`` for Grad-CAM with deletion and insertion on the offline ImageNet
photos (MobileNet, alpha 0.25; the steps and blur of ``xai.studies``' photos setting), against
the floor of the passes it must make.

Floor per photo: one forward pass for the targets, one forward + backward pass for Grad-CAM
(timed as an input gradient of the target logits, at Grad-CAM's batch size 32) and (steps + 1)
forward passes per deletion and per insertion curve of each of the 3 maps (Grad-CAM, the random
and the constant baseline), as plain tf.function calls at the metrics' batch size (64).

The machine may be shared, so the engine and its floor are timed alternately, shard by shard
(64 photos): after the engine's shard, a share (``--floor-share``) of that shard's floor passes
is run and scaled to all of them; load from other jobs then hits both alike. Photo decoding,
blurring and mask building count in the engine's time only. Writes the "Evaluation engine
throughput" section of bench/results.md.

    python bench/engine.py --photos 128     # a quick check
    python bench/engine.py                  # the 1000 photos
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]  # this checkout's xai, and bench's helpers
SECTION = "## Evaluation engine throughput"
FWD_BATCH, GRAD_BATCH = 64, 32  # the metric kernel's and Grad-CAM's default batch sizes


def floor_timer(model, x):
    """``time_floor(n, forwards, share)`` -> (seconds of the floor passes of n photos, forward
    and fwd+bwd seconds per photo): runs ``share`` of the passes now and scales."""
    import numpy as np
    import tensorflow as tf

    xf = tf.constant(np.resize(x, (FWD_BATCH, *x.shape[1:])), tf.float32)
    xg = tf.constant(np.resize(x, (GRAD_BATCH, *x.shape[1:])), tf.float32)
    forward = tf.function(lambda v: model(v, training=False))
    targets = tf.constant(np.argmax(forward(xg).numpy(), axis=1), tf.int32)

    @tf.function
    def gradient(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            s = tf.reduce_sum(tf.gather(model(v, training=False), targets, axis=1,
                                        batch_dims=1))
        return tape.gradient(s, v)

    def seconds(fn, arg, calls):
        start = time.perf_counter()
        for _ in range(calls):
            fn(arg).numpy()
        return (time.perf_counter() - start) / calls

    for _ in range(2):  # tracing and warm-up
        seconds(forward, xf, 1), seconds(gradient, xg, 1)

    def time_floor(n: int, forwards: int, share: float):
        f_calls, g_calls = forwards * n / FWD_BATCH, n / GRAD_BATCH
        f = seconds(forward, xf, max(1, round(share * f_calls)))
        g = seconds(gradient, xg, max(1, round(share * g_calls)))
        return f * f_calls + g * g_calls, f / FWD_BATCH, g / GRAD_BATCH

    return time_floor


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=1000, help="photos evaluated (1000)")
    parser.add_argument("--floor-share", type=float, default=0.5,
                        help="share of each shard's floor passes actually run (0.5)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    from environment import cpu_name, offline_keras_or_exit
    from report import write_section

    offline_keras_or_exit("bench/engine.py")
    import keras
    import numpy as np
    import tensorflow as tf

    import xai
    from xai import studies
    from xai.evaluation import evaluate

    setting = studies.evaluation_setting("photos", "offline")
    model, source = setting["model"], setting["data"]
    ids = source.ids[:args.photos]
    options = {m: setting["metric_options"][m] for m in ("deletion", "insertion")}
    steps = {m: o["steps"] for m, o in options.items()}
    forwards = 1 + 3 * sum(s + 1 for s in steps.values())  # targets + 3 maps x 2 curves

    def run(shard_ids):
        return evaluate(model, source.subset(shard_ids), ["gradcam"], ["deletion", "insertion"],
                        metric_options=options, seed=setting["seed"], progress=False)

    run(ids[:FWD_BATCH])  # tracing: the timed shards are warm
    time_floor = floor_timer(model, source.load(np.arange(8)))
    engine_s = floor_s = 0.0
    passes, rows = [], 0
    for start in range(0, len(ids), FWD_BATCH):
        shard = ids[start:start + FWD_BATCH]
        t0 = time.perf_counter()
        table = run(shard)
        engine_s += time.perf_counter() - t0
        assert len(table) == 6 * len(shard) and table["value"].notna().all()
        rows += len(table)
        seconds, fwd, grad = time_floor(len(shard), forwards, args.floor_share)
        floor_s += seconds
        passes.append((fwd, grad))
        print(f"{start + len(shard)}/{len(ids)} photos: engine {engine_s:.1f} s, floor "
              f"{floor_s:.1f} s", flush=True)
    n = len(ids)
    ratio = engine_s / floor_s
    fwd, grad = (statistics.median(p) for p in zip(*passes))
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    text = (
        f"{SECTION}\n\n"
        f"Generated by `bench/engine.py --photos {n}` on {stamp}, {cpu_name()}, "
        f"{os.cpu_count()} logical CPUs (shared with other jobs: load average "
        f"{os.getloadavg()[0]:.1f} at the end); Python {platform.python_version()}, "
        f"tensorflow {tf.__version__}, keras {keras.__version__}, xai {xai.__version__}.\n\n"
        f"`xai.evaluation.evaluate` of Grad-CAM with deletion and insertion (steps "
        f"{steps['deletion']}, blurred baseline as in `xai.studies`' photos setting) on {n} "
        "ImageNet photos with MobileNet (alpha 0.25), the random and constant baselines "
        f"included ({rows} rows), warm (traced on one shard first). Floor: per photo 1 forward "
        f"pass for the targets, 1 forward + backward pass for Grad-CAM and {forwards - 1} "
        "forward passes for the 6 curves of (steps + 1) points, run as plain tf.function calls "
        "at the engine's batch sizes. The engine and the floor are timed alternately, shard by "
        f"shard of 64 photos ({args.floor_share:.0%} of each shard's floor passes run and "
        "scaled), so the machine's load hits both alike; decoding, blurring and mask building "
        "count in the engine's time only.\n\n"
        "| photos | engine s | photos/s | floor s | floor photos/s | engine/floor "
        "| forward ms/photo | fwd+bwd ms/photo | forwards/photo | target |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
        f"| {n} | {engine_s:.1f} | {n / engine_s:.2f} | {floor_s:.1f} | {n / floor_s:.2f} "
        f"| {ratio:.2f}× | {fwd * 1e3:.2f} | {grad * 1e3:.2f} | {forwards} "
        f"| ≤1.3×: {'✅' if ratio <= 1.3 else '❌'} |\n")
    print(text)
    if not args.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
