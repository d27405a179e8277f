"""The HMT study (notebook 04): the original study's "VGG-7" on the Kather 2016 histology
tiles. Whether the tiles and the model are there (:func:`ready`), loading and classifying them
(:func:`load`), the maps of every method (:func:`explain`), RISE's centring on the empty tiles
(:func:`rise_centring`, :func:`rise_centring_text`) and one figure per class
(:func:`class_figures`). The per-class accuracy is :mod:`xai.studies.classes`'."""
from __future__ import annotations

import warnings

import numpy as np

from ..data import KATHER_CLASSES as CLASSES  # the eight classes, in label order


def ready(data, model_file) -> bool:
    """Whether the tiles ``data`` (folder or zip) and the model file are there; says what is
    missing and how to get it."""
    if not data.exists():
        print(f"SKIPPED: no Kather 2016 data at {data}. Set data_path to the folder of class "
              "sub-folders (01_TUMOR ... 08_EMPTY) or to Kather_texture_2016_image_tiles_5000.zip "
              "(Zenodo record 53169); the rest of the notebook does nothing.")
    if not model_file.is_file():
        print(f"SKIPPED: the HMT model is not at {model_file}. Set model_path to the original "
              "study's HMT.h5 (or a model trained with xai.train.train_hmt); the rest of the "
              "notebook does nothing.")
    return data.exists() and model_file.is_file()


def load(data, model_file, per_class):
    """The first ``per_class`` tiles of each class at 224 × 224 in [0, 1]
    (:func:`xai.data.load_kather`), the model, its probabilities and predicted classes:
    ``(x, y, names, model, probs, pred)``."""
    import keras

    from ..data import load_kather

    x, y, names = load_kather(data, size=224, max_per_class=per_class)
    with warnings.catch_warnings():  # Keras 3 reading the old .h5 models
        warnings.filterwarnings("ignore", message="Do not pass an `input_shape`")
        model = keras.models.load_model(model_file, compile=False)
    probs = model.predict(x, batch_size=16, verbose=0)
    pred = np.argmax(probs, axis=-1)
    print(f"{len(x)} tiles {x.shape[1:]}, {len(set(y.tolist()))} classes; "
          f"model {model_file.name}: {model.count_params():,} parameters")
    return x, y, names, model, probs, pred


def explain(model, x, methods, options, seed: int = 0, **common):
    """Every method's maps for the metrics (:func:`xai.studies.explain_maps`: an attribution as
    Σ_c |a|) plus the two baselines ``random`` (seeded uniform values on a 7 × 7 grid, upsampled
    bilinearly to 224) and ``constant`` (ones), and the maps to show (an attribution divided by
    its 99th percentile per tile and clipped to [0, 1], :meth:`xai.Method.display_map`):
    ``(maps, shown)``."""
    from .. import METHODS, viz
    from .notebook import explain_maps

    results, maps = explain_maps(model, x, methods, options, **common)
    shown = {m: maps[m] if METHODS[m].returns == "map" else METHODS[m].display_map(results[m])
             for m in methods}
    for m in methods:
        print(f"{m}: {maps[m].shape}")
    maps["random"] = viz.resize(
        np.random.default_rng(seed).random((len(x), 7, 7)).astype(np.float32), 224)
    maps["constant"] = np.ones_like(maps["random"])
    return maps, shown


def rise_centring(model, x, y, rise_maps, rise_options, n_show: int, path=None, **common):
    """RISE on the first ``n_show`` empty tiles three ways: the paper's eq. 6 (same masks), the
    notebook's own maps ``rise_maps`` (centred or not, as ``rise_options["centre"]`` says) and
    that variant with the mask seed + 1; the correlations between the tiles' maps per variant
    and between the two seeds per tile, and the figure (saved to ``path``). Returns a dict:
    ``tiles``, ``pairs`` (the tile pairs), ``between_tiles``, ``between_seeds``, ``seed``."""
    from .. import explain as run
    from .. import viz

    centre, seed = rise_options["centre"], rise_options["seed"]
    empty = np.flatnonzero(y == CLASSES.index("empty"))[:n_show]
    eq6 = run(model, x[empty], method="rise", **common, **{**rise_options, "centre": False})
    other = run(model, x[empty], method="rise", **common, **{**rise_options, "seed": seed + 1})
    variants = {"eq. 6": eq6, "centred" if centre else "eq. 6 (again)": rise_maps[empty],
                f"{'centred' if centre else 'eq. 6'}, seed {seed + 1}": other}
    pairs = np.triu_indices(len(empty), 1)
    between_tiles = {k: np.atleast_2d(np.corrcoef(v.reshape(len(v), -1)))[pairs]
                     for k, v in variants.items()}
    between_seeds = [np.corrcoef(a.ravel(), b.ravel())[0, 1]
                     for a, b in zip(rise_maps[empty], other)]
    viz.grid([[{"data": x[i], "title": "tile"}, *[viz.overlay(x[i], v[j])
                                                  for v in variants.values()]]
              for j, i in enumerate(empty)],
             row_titles=[f"empty {j + 1}" for j in range(len(empty))],
             col_titles=["", *[f"RISE, {k}" for k in variants]],
             suptitle="RISE on the empty tiles: eq. 6, the mean-centred sum, and another mask seed",
             panel_size=2.1, dpi=90, path=path, overlay_colorbar=True)
    return {"tiles": empty, "pairs": pairs, "between_tiles": between_tiles,
            "between_seeds": between_seeds, "seed": seed}


def rise_centring_text(result: dict) -> str:
    """:func:`rise_centring`'s correlations as the notebook prints them."""
    pairs, seed = result["pairs"], result["seed"]
    lines = [f"correlation between the RISE maps of the {len(result['tiles'])} empty tile(s), "
             f"pairs {[(int(a), int(b)) for a, b in zip(*pairs)]}:"]
    lines += [f"  {k}: " + (", ".join(f"{v:.2f}" for v in r) if len(r) else "one tile, no pair")
              for k, r in result["between_tiles"].items()]
    lines.append(f"correlation between seed {seed} and seed {seed + 1}, per empty tile: "
                 + ", ".join(f"{v:.2f}" for v in result["between_seeds"]))
    return "\n".join(lines)


def class_figures(x, y, pred, probs, shown, methods, n_show: int, out) -> None:
    """One figure per class (``<out>/<class>_maps.png``): its first ``n_show`` tiles with the
    predicted class and probability, and each method's map over them."""
    from .. import METHODS, viz

    for c, cls in enumerate(CLASSES):
        idx = np.flatnonzero(y == c)[:n_show]
        if len(idx):
            rows = [[{"data": x[i], "title": f"pred. {CLASSES[pred[i]]} {probs[i, pred[i]]:.2f}"}]
                    + [viz.overlay(x[i], shown[m][i]) for m in methods] for i in idx]
            viz.grid(rows, row_titles=[f"{cls} {j + 1}" for j in range(len(idx))],
                     col_titles=["tile", *[m if METHODS[m].returns == "map" else f"|{m}|"
                                           for m in methods]],
                     suptitle=f"HMT, true class {cls}: tiles and maps of the predicted class",
                     panel_size=2.1, dpi=90, path=out / f"{cls}_maps.png",
                     overlay_colorbar=True)
