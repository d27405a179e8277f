"""The project's studies as data: which model, which samples, which methods and metrics each
evaluation setting runs (:func:`evaluation_setting`), where its per-sample table lives, and the
spot check that recomputes random committed rows (:func:`spot_check`). Notebooks and the CI
check build settings here, so both compute exactly the same thing."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
#: methods whose maps cost tens to hundreds of passes: run on a seeded subset of large sets,
#: and not re-run by max-sensitivity (K perturbations × their cost)
COSTLY = ("smooth_gradcam++", "smoothgrad", "integrated_gradients", "scorecam", "rise", "sise")
#: the settings of notebook 08, in order
EVALUATION_SETTINGS = ("photos", "photos with boxes", "mnist1d original", "mnist1d ours", "hmt",
                       "xray")
_METHOD_OPTIONS = {"rise": {"n_masks": 500}, "integrated_gradients": {"steps": 32}}


def assets_dir() -> Path:
    """The offline assets: ``$XAI_ASSETS``, else ``../shared/assets`` beside the repository."""
    return Path(os.environ.get("XAI_ASSETS", REPO_ROOT.parent / "shared" / "assets"))


def samples_dir(results: Path, study: str, setting: str) -> Path:
    """Folder of a setting's per-sample table: ``<results>/<study>/samples/<setting>``."""
    return Path(results) / study / "samples" / setting.replace(" ", "_")


def _methods(smoke: bool) -> dict:
    from . import METHODS

    names = ["gradcam", "saliency", "rise"] if smoke else list(METHODS)
    options = dict(_METHOD_OPTIONS, rise={"n_masks": 16 if smoke else 500})
    return {m: (m, options.get(m, {})) for m in names}


def _metric_options(images: bool, smoke: bool) -> dict:
    removal = {"baseline": "blur", "blur_sigma": 10.0} if images else {"baseline": 0.0}
    steps = 4 if smoke else 10
    return {"deletion": {"steps": steps, **removal}, "insertion": {"steps": steps, **removal},
            "drop_increase": {"keep": 0.3, **removal},
            "mufidelity": {"n_subsets": 8 if smoke else 32, **removal},
            "max_sensitivity": {"n_perturbations": 2 if smoke else 3}}


def _photo_model(profile: str):
    from . import models
    return models.load("mobilenet", alpha=0.25) if profile == "offline" else models.load("vgg16")


def _imagenet_source(zm, smoke: bool):
    from . import data
    from .evaluation import Source

    folder = assets_dir() / "imagenet_samples"
    table = data.imagenet_labels(folder)
    if smoke:
        table = table.iloc[::125]
    rows = table.index.to_numpy()
    return Source(table["file"].str.rsplit(".", n=1).str[0].tolist(),
                  table["class_index"].to_numpy(),
                  lambda idx: zm.preprocess(data.load_imagenet_samples(folder, rows[idx],
                                                                       zm.input_size[0])),
                  description="ImageNet photos, one per class")


def _cropped_entry(entry: dict) -> dict:
    """A box entry for the centre square of its photo (boxes shifted, the square's size)."""
    side = min(entry["width"], entry["height"])
    top, left = (entry["height"] - side) // 2, (entry["width"] - side) // 2
    objects = [{**o, "box": [o["box"][0] - left, o["box"][1] - top, o["box"][2] - left,
                             o["box"][3] - top]} for o in entry["objects"]]
    return {**entry, "width": side, "height": side, "objects": objects}


def _boxes_source(zm, smoke: bool):
    from . import data, metrics, viz
    from .evaluation import from_arrays

    boxes = data.load_boxes()
    photos = data.sample_images()
    photos.update({p.stem: data.load_image(p) for p in sorted((assets_dir() / "images").iterdir())
                   if p.stem in boxes})
    names = [n for n in boxes if n in photos][:2 if smoke else None]
    images = viz.resize([data.centre_crop(photos[n]) for n in names], zm.input_size, "area")
    regions = np.stack([metrics.object_mask(_cropped_entry(boxes[n]), zm.input_size)
                        for n in names])
    return from_arrays(zm.preprocess(images), ids=names, regions=regions,
                       description="photos with hand-drawn boxes (centre-cropped)")


def _keras_model(path: Path):
    import keras
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path} (offline assets: set XAI_ASSETS)")
    return keras.models.load_model(path, compile=False)


def evaluation_setting(name: str, profile: str = "offline", smoke: bool = False) -> dict:
    """Keyword arguments of :func:`xai.evaluation.evaluate` for one setting of notebook 08:
    ``model``, ``data``, ``methods``, ``metrics``, ``metric_options``, ``subsets``, ``exclude``,
    ``seed`` and the ``recipe`` that rebuilds it. Large sets run the costly methods and metrics
    on an id-seeded subset (about 20 % of 1000 photos, 35 % of 624 X-rays: over 200 each)."""
    from . import data
    from .evaluation import from_arrays

    images = name not in ("mnist1d original", "mnist1d ours")
    metrics = ["deletion", "insertion", "drop_increase", "mufidelity", "max_sensitivity"]
    subsets, fraction = {}, None
    if name == "photos":
        zm = _photo_model(profile)
        model, source, fraction = zm.model, _imagenet_source(zm, smoke), 0.2
    elif name == "photos with boxes":
        zm = _photo_model(profile)
        model, source, metrics = zm.model, _boxes_source(zm, smoke), ["pointing_game",
                                                                       "energy_share"]
    elif name.startswith("mnist1d"):
        mn = data.mnist1d()
        path = (assets_dir() / "seed_models" / "MNIST1D.h5" if name.endswith("original")
                else REPO_ROOT / "models" / "mnist1d_cnn.keras")
        n = 16 if smoke else len(mn["x_test"])
        model = _keras_model(path)
        source = from_arrays(mn["x_test"][:n], mn["y_test"][:n], description="MNIST-1D test")
    elif name == "hmt":
        model = _keras_model(assets_dir() / "seed_models" / "HMT.h5")
        x, y, tiles = data.load_kather(assets_dir() / "kather2016",
                                       max_per_class=1 if smoke else None)
        source = from_arrays(x[:2] if smoke else x, y[:2] if smoke else y,
                             ids=tiles[:2] if smoke else tiles, description="Kather 2016 tiles")
    elif name == "xray":
        model = _keras_model(assets_dir() / "xray_models" / "pneumonia_cnn_am1codes.h5")
        x, y, films = data.load_xray(assets_dir() / "chest_xray" / "kermany_test",
                                     max_per_class=2 if smoke else None)
        source, fraction = from_arrays(x, y, ids=films, description="Kermany test X-rays"), 0.35
    else:
        raise ValueError(f"unknown setting {name!r}; choose one of {EVALUATION_SETTINGS}")
    methods = _methods(smoke)
    if fraction is not None and not smoke:
        subsets = {**{m: fraction for m in COSTLY if m in methods},
                   "mufidelity": fraction, "max_sensitivity": fraction}
    return {"model": model, "data": source, "methods": methods, "metrics": metrics,
            "metric_options": _metric_options(images, smoke), "subsets": subsets,
            "exclude": [(m, "max_sensitivity") for m in COSTLY if m in methods], "seed": 0,
            "recipe": {"study": "evaluation", "setting": name, "profile": profile,
                       "smoke": bool(smoke)}}


def run_setting(results, name: str, profile: str = "offline", smoke: bool = False,
                progress: bool = True, study: str = "evaluation"):
    """Evaluate one setting of ``study`` into its samples folder (finished shards are kept)
    and return its per-sample table with a ``setting`` column."""
    from .evaluation import evaluate

    out = samples_dir(results, study, name)
    table = evaluate(**BUILDERS[study](name, profile, smoke), out=out, progress=progress)
    return table.assign(setting=name)


def spot_check(out, n_rows: int = 30, seed: int = 0, atol: float = 1e-3):
    """Recompute ``n_rows`` seeded random rows of a committed per-sample table (at least one
    per method; every row when it has fewer) from scratch and compare them with the committed
    values.

    Returns a DataFrame of the checked rows with ``committed``, ``recomputed`` and ``ok``
    (|difference| ≤ ``atol``, the precision the summaries print)."""
    import pandas as pd

    from .evaluation import evaluate, load_table

    out = Path(out)
    recipe = json.loads((out / "manifest.json").read_text())["settings"]["recipe"]
    setting = BUILDERS[recipe["study"]](recipe["setting"], recipe["profile"], recipe["smoke"])
    table = load_table(out)
    rng = np.random.default_rng(seed)
    first = table.groupby("method", sort=False).sample(1, random_state=rng)
    rest = table.drop(first.index)
    picked = pd.concat([first, rest.sample(min(len(rest), max(0, n_rows - len(first))),
                                           random_state=rng)])
    checked = []
    for method, rows in picked.groupby("method", sort=False):
        kwargs = dict(setting, data=setting["data"].subset(rows["sample"].unique()),
                      methods={} if method in ("random", "constant")
                      else {method: setting["methods"][method]})
        kwargs["subsets"] = {k: v for k, v in setting["subsets"].items()
                             if k in kwargs["methods"] or k in setting["metrics"]}
        kwargs.pop("recipe")
        new = evaluate(**kwargs, progress=False)
        merged = rows.merge(new, on=["sample", "method", "metric"], how="left",
                            suffixes=("", "_new"))
        checked.append(merged.rename(columns={"value": "committed", "value_new": "recomputed"}))
    result = pd.concat(checked, ignore_index=True)
    result["ok"] = (result["committed"] - result["recomputed"]).abs() <= atol
    return result[["sample", "method", "metric", "committed", "recomputed", "ok"]]


#: study name -> f(setting, profile, smoke) giving :func:`xai.evaluation.evaluate`'s arguments;
#: a manifest's ``recipe`` names one, so :func:`spot_check` can rebuild any committed table
BUILDERS = {"evaluation": evaluation_setting}
