"""Peak memory of xai's Integrated Gradients, each measurement in a fresh process: the parent
runs ``bench/run.py --memprobe model:batch:steps:batch_size`` per number of steps (0 = baseline,
a forward pass instead of IG), with glibc's defaults or a fixed mmap threshold, and reads the
child's peak resident set (VmHWM) from the JSON line it prints."""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

from environment import HERE, setup_keras_home
from peers import xai_call
from workload import build_model, make_inputs

RUN = HERE / "run.py"  # the entry point whose hidden --memprobe flag runs memprobe()


def memprobe(spec: str) -> None:
    """Child process: `model:batch:steps:batch_size` (steps 0 = baseline, no IG). Prints JSON."""
    kh = setup_keras_home()
    if kh is not None:
        import atexit
        atexit.register(shutil.rmtree, kh, True)
    name, batch, steps, bs = spec.split(":")
    batch, steps, bs = int(batch), int(steps), int(bs)
    import numpy as np
    import tensorflow as tf
    model = build_model(name)
    x = make_inputs(name, batch)
    t = np.argmax(model(x, training=False).numpy(), 1)
    if steps:
        import xai
        xai_call(xai, model, x, "integrated_gradients", None, t, steps=steps, batch_size=bs)()
    else:
        tf.function(lambda v: model(v, training=False))(tf.constant(x)).numpy()
    print(json.dumps({"spec": spec, "peak_rss_mib": peak_rss_kib() / 1024}))


def peak_rss_kib() -> float:
    """This process's peak resident set (VmHWM; unlike ru_maxrss it is not inherited from the
    parent across fork/exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


FIXED_MMAP = {"MALLOC_MMAP_THRESHOLD_": str(1 << 20)}  # glibc: no dynamic mmap threshold


def measure_memory(model_name, batch, steps_list, bs, log, extra_env=None):
    out = {}
    for steps in [0] + list(steps_list):
        spec = f"{model_name}:{batch}:{steps}:{bs}"
        p = subprocess.run([sys.executable, str(RUN), "--memprobe", spec], capture_output=True,
                           text=True, env=dict(os.environ, **(extra_env or {})))
        try:
            out[steps] = json.loads(p.stdout.strip().splitlines()[-1])["peak_rss_mib"]
        except Exception:
            out[steps] = None
            log(f"    memprobe {spec} failed: {p.stderr.strip().splitlines()[-1:]}")
        log(f"    memprobe {spec}: {out[steps]} MiB")
    return out



def ig_memory(quick: bool, bs: int, log):
    """(model, batch, batch_size, peak MiB by steps with glibc's defaults, same with a fixed
    mmap threshold) of xai's IG on MobileNet, batch 1; steps 0 is the baseline."""
    log("memory: xai IG peak RSS vs steps (fresh subprocesses)")
    steps_list = (64, 512) if quick else (64, 512, 2048)
    return ("MobileNet", 1, bs,
            measure_memory("MobileNet", 1, steps_list, bs, log),
            measure_memory("MobileNet", 1, steps_list, bs, log, FIXED_MMAP))
