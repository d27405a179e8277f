"""Memory kept per explained model after the model is deleted (make bench, main venv).

Builds, explains and deletes 60 small CNNs (conv → conv → GAP → Dense softmax) one after the
other and reports the growth of the process's resident memory over the last 40, per model. A
model that is only run with predict() is the floor. Written to bench/memory.md.
"""
from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = {"predict() only (floor)": None, "gradcam": "gradcam", "saliency": "saliency",
         "guided_backprop": "guided_backprop", "integrated_gradients": "integrated_gradients"}


def rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def one_case(method: str | None) -> float:
    import keras
    import numpy as np

    import xai
    x = np.random.default_rng(0).normal(size=(2, 12, 12, 3)).astype(np.float32)
    for i in range(60):
        keras.utils.set_random_seed(i)
        inp = keras.Input((12, 12, 3))
        h = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(inp)
        h = keras.layers.Conv2D(5, 3, padding="same", activation="relu")(h)
        out = keras.layers.Dense(4, activation="softmax")(keras.layers.GlobalAveragePooling2D()(h))
        model = keras.Model(inp, out)
        if method is None:
            model.predict(x, verbose=0)
        else:
            xai.explain(model, x, method=method, progress=False)
        del model
        gc.collect()
        if i == 19:
            start = rss_mib()
    return (rss_mib() - start) / 40


def main() -> None:
    if len(sys.argv) > 1:  # one case per fresh process
        print(one_case(None if sys.argv[1] == "-" else sys.argv[1]))
        return
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TQDM_DISABLE="1",
               PYTHONPATH=str(HERE.parent))
    rows = []
    for label, method in CASES.items():
        out = subprocess.run([sys.executable, __file__, method or "-"], env=env, check=True,
                             capture_output=True, text=True).stdout.split()[-1]
        rows.append(f"| {label} | {float(out):.3f} |")
        print(rows[-1], flush=True)
    (HERE / "memory.md").write_text(
        "# Memory kept per explained model, after the model is deleted\n\n"
        "60 small CNNs built, explained and deleted one after the other in one process; resident "
        "memory growth over the last 40, per model (python bench/memory.py).\n\n"
        "| call | MiB per model |\n|---|---:|\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
