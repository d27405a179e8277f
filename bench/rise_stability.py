"""How stable RISE maps are on HMT: seed-to-seed correlation against the number of masks.

For three Kather 2016 tiles (tumour, lymphocytes, empty) and two independent mask sets (seeds 0
and 1, ``N`` masks each), the masked class probabilities S_i are computed once; the RISE map of
the first n masks is Σ_i S_i M_i (eq. 6) or Σ_i (S_i − S̄) M_i (``xai.rise(centre=True)``), and
the Pearson correlation of the two seeds' maps tells whether n masks give a reproducible map
(1 = the same map, 0 = unrelated). Also times the forward passes against the mask rendering.
Needs the offline assets (XAI_ASSETS or ../shared/assets); main venv; writes
bench/rise_stability.md. About 12,000 passes of the 224 × 224 VGG-7 (≈ 5 min on 2 CPU cores).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import xai.data  # noqa: E402
import xai.scores  # noqa: E402
from xai._batching import seeded_rng  # noqa: E402
from xai.perturbation import rise_masks  # noqa: E402

N, COUNTS, CHUNK = 2000, (250, 500, 1000, 2000), 50
TILES = {"tumour": 0, "lympho": 9, "empty": 21}  # the first tile of each class


def main():
    assets = Path(os.environ.get("XAI_ASSETS", HERE.parent.parent / "shared" / "assets"))
    x, y, names = xai.data.load_kather(assets / "kather2016", size=224, max_per_class=3)
    model = keras.models.load_model(assets / "seed_models" / "HMT.h5", compile=False)
    x = x[list(TILES.values())]
    top = xai.scores.class_scores(model, x, "probability").argmax(1)
    masks, S, render_s, model_s = {}, {}, 0.0, 0.0
    for seed in (0, 1):
        render = rise_masks(seeded_rng(seed), N, (224, 224), 7, 0.5)
        t = time.perf_counter()
        masks[seed] = np.concatenate([render(slice(s, s + CHUNK)) for s in range(0, N, CHUNK)])
        render_s += time.perf_counter() - t
        t = time.perf_counter()
        S[seed] = np.stack([np.concatenate([
            xai.scores.class_scores(model, xi * masks[seed][s:s + CHUNK, ..., None],
                                    "probability", CHUNK)[:, c] for s in range(0, N, CHUNK)])
            for xi, c in zip(x, top)])
        model_s += time.perf_counter() - t
    rows = []
    for n in COUNTS:
        for centre in (False, True):
            maps = {}
            for seed in (0, 1):
                w = S[seed][:, :n] - (S[seed][:, :n].mean(1, keepdims=True) if centre else 0)
                maps[seed] = np.tensordot(w, masks[seed][:n], axes=1).reshape(len(x), -1)
            r = [np.corrcoef(maps[0][k], maps[1][k])[0, 1] for k in range(len(x))]
            rows.append(f"| {n} | {'centred' if centre else 'eq. 6'} | "
                        + " | ".join(f"{v:.2f}" for v in r) + " |")
    text = (
        "# RISE map stability on HMT (seed 0 vs seed 1)\n\n"
        "Pearson correlation of the two seeds' RISE maps (7 × 7 grid, p = 0.5, probability of "
        f"the predicted class) with the first n of {N} masks; tiles: "
        + ", ".join(f"{k} ({Path(names[i]).name})" for k, i in TILES.items()) + ". Written by "
        "`bench/rise_stability.py`.\n\n"
        "| masks | RISE | " + " | ".join(TILES) + " |\n|---|---|" + "---|" * len(TILES) + "\n"
        + "\n".join(rows)
        + f"\n\nTime: rendering {2 * N} masks {render_s:.1f} s, the model's {2 * N * len(x)} "
        f"masked passes {model_s:.1f} s (2 CPU cores, shared).\n")
    (HERE / "rise_stability.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
