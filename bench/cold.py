#!/usr/bin/env python
"""Cold start: the first Grad-CAM in a fresh process (make bench; bench/.venv for the peers).

A command line is always a cold start, so this times, in a new process each time, on the ImageNet
MobileNet (alpha 0.25, one 224×224 image, layer conv_pw_13_relu):

* ``first call``: the library's import plus its first Grad-CAM call on an already loaded model
  (xai: ``xai.explain``; tf-keras-vis: ``Gradcam(model, ReplaceToLinear())``; xplique: ``GradCAM``
  on a linear-head copy made beforehand, as its users must) — probe building, model cloning and
  tracing included;
* ``CLI``: the whole ``python -m xai explain IMAGE`` process, interpreter start to files written.

Contenders alternate round-robin, ``--runs`` times each; medians go to bench/cold_start.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAYER = "conv_pw_13_relu"
CONTENDERS = ("xai", "tf-keras-vis", "xplique")


def child(name: str) -> None:
    """One cold first call; prints JSON with the times in seconds."""
    sys.path.insert(0, str(HERE))
    from environment import setup_keras_home
    from workload import build_model, linear_copy, make_inputs
    setup_keras_home()
    import numpy as np
    model = build_model("MobileNet")
    x = make_inputs("MobileNet", 1)
    target = int(np.argmax(model(x, training=False)))
    prepared = linear_copy(model) if name == "xplique" else model
    start = time.perf_counter()
    if name == "xai":
        import xai
        out = xai.explain(prepared, x, method="gradcam", layer=LAYER, target=target,
                          progress=False)
    elif name == "tf-keras-vis":
        from tf_keras_vis.gradcam import Gradcam
        from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
        from tf_keras_vis.utils.scores import CategoricalScore
        out = Gradcam(prepared, model_modifier=ReplaceToLinear(), clone=True)(
            CategoricalScore([target]), x, penultimate_layer=LAYER)
    else:
        from xplique.attributions import GradCAM
        onehot = np.eye(1000, dtype="float32")[[target]]
        out = GradCAM(prepared, conv_layer=LAYER).explain(x, onehot)
    first = time.perf_counter() - start
    assert np.isfinite(np.asarray(out)).all()
    print(json.dumps({"first_call_s": first}))


def cli_run(image: Path) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "xai", "explain", str(image), "--option",
                        "alpha=0.25", "--out", out, "--quiet"], check=True,
                       capture_output=True, env=_env())
        return time.perf_counter() - start


def _env() -> dict:
    from environment import keras_home_source
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TQDM_DISABLE="1",
                KERAS_HOME=str(keras_home_source()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--child", choices=CONTENDERS)
    ap.add_argument("--out", default=str(HERE / "cold_start.md"))
    args = ap.parse_args()
    if args.child:
        return child(args.child)
    sys.path.insert(0, str(HERE))
    import cv2
    from skimage import data
    image = Path(tempfile.mkdtemp()) / "chelsea.png"
    cv2.imwrite(str(image), data.chelsea()[..., ::-1])
    times = {name: [] for name in (*CONTENDERS, "xai CLI")}
    for run in range(args.runs):
        for name in CONTENDERS:
            done = subprocess.run([sys.executable, __file__, "--child", name], check=True,
                                  capture_output=True, text=True, env=_env())
            times[name].append(json.loads(done.stdout.strip().splitlines()[-1])["first_call_s"])
        times["xai CLI"].append(cli_run(image))
        print(run + 1, {k: round(v[-1], 2) for k, v in times.items()}, flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = [f"| {name} | {med[name]:.2f} | {med[name] / med['tf-keras-vis']:.2f}× |"
            for name in CONTENDERS]
    Path(args.out).write_text(
        "# Cold start: the first Grad-CAM in a fresh process\n\n"
        f"ImageNet MobileNet (alpha 0.25), one 224×224 image, layer {LAYER}; each number the "
        f"median of {args.runs} fresh processes, contenders alternating (python bench/cold.py, "
        "bench/.venv).\n\n"
        "| library | import + first call (s) | vs tf-keras-vis |\n|---|---:|---:|\n"
        + "\n".join(rows) + "\n\n"
        f"`python -m xai explain chelsea.png --option alpha=0.25`, the whole process from "
        f"interpreter start to files written (TensorFlow import and model loading included): "
        f"**{med['xai CLI']:.1f} s**.\n")
    print(Path(args.out).read_text())


if __name__ == "__main__":
    main()
