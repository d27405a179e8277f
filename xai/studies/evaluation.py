"""The settings of notebook 08's evaluation: which model, samples, methods, metrics and
subsets each setting runs (:func:`evaluation_setting`, :data:`EVALUATION_SETTINGS`,
:data:`SUBSET_FRACTIONS`), its metric options (:func:`metric_options_for`, shared with the
photo studies) and what each method costs in passes (:func:`evaluation_costs`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .paths import REPO_ROOT, assets_dir
from .photos import imagenet_source, photo_model

#: methods whose maps cost tens to hundreds of passes: run on a seeded subset of large sets,
#: and not re-run by max-sensitivity (K perturbations × their cost)
COSTLY = ("smooth_gradcam++", "smoothgrad", "integrated_gradients", "scorecam", "rise", "sise")
#: the settings of notebook 08, in order
EVALUATION_SETTINGS = ("photos", "photos with boxes", "mnist1d original", "mnist1d ours", "hmt",
                       "xray")
#: share of the samples on which the costly methods run, per large setting: an id-seeded,
#: nested subset (207 of the 1000 photos; at least 200 are wanted); every other method, both
#: baselines and every metric run on all samples. Delete the setting's
#: FinalResults/evaluation/samples folder and raise it to measure more (about 1 s per photo
#: per 10 % on a 2-core machine)
SUBSET_FRACTIONS = {"photos": 0.21}
_METHOD_OPTIONS = {"rise": {"n_masks": 500}, "integrated_gradients": {"steps": 32}}


def _methods(smoke: bool) -> dict:
    from .. import METHODS

    names = ["gradcam", "saliency", "rise"] if smoke else list(METHODS)
    options = dict(_METHOD_OPTIONS, rise={"n_masks": 16 if smoke else 500})
    return {m: (m, options.get(m, {})) for m in names}


def metric_options_for(images: bool, smoke: bool) -> dict:
    """Notebook 08's metric options: removal by blurring (σ = 10 px) for images, zeros for
    signals; 10 deletion/insertion steps (4 in smoke runs)."""
    removal = {"baseline": "blur", "blur_sigma": 10.0} if images else {"baseline": 0.0}
    steps = 4 if smoke else 10
    return {"deletion": {"steps": steps, **removal}, "insertion": {"steps": steps, **removal},
            "drop_increase": {"keep": 0.3, **removal},
            "mufidelity": {"n_subsets": 8 if smoke else 32, **removal},
            "max_sensitivity": {"n_perturbations": 2 if smoke else 3}}



def _cropped_entry(entry: dict) -> dict:
    """A box entry for the centre square of its photo (boxes shifted, the square's size)."""
    side = min(entry["width"], entry["height"])
    top, left = (entry["height"] - side) // 2, (entry["width"] - side) // 2
    objects = [{**o, "box": [o["box"][0] - left, o["box"][1] - top, o["box"][2] - left,
                             o["box"][3] - top]} for o in entry["objects"]]
    return {**entry, "width": side, "height": side, "objects": objects}


def _boxes_source(zm, smoke: bool):
    from .. import data, metrics, viz
    from ..evaluation import from_arrays

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
    ``seed`` and the ``recipe`` that rebuilds it. The costly methods run on an id-seeded subset
    of the 1000 photos (:data:`SUBSET_FRACTIONS`); everything else on every sample."""
    from .. import data
    from ..evaluation import from_arrays

    images = name not in ("mnist1d original", "mnist1d ours")
    metrics = ["deletion", "insertion", "drop_increase", "mufidelity", "max_sensitivity"]
    subsets = {}
    if name == "photos":
        zm = photo_model(profile)
        model, source = zm.model, imagenet_source(zm, smoke)
    elif name == "photos with boxes":
        zm = photo_model(profile)
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
        source = from_arrays(x, y, ids=films, description="Kermany test X-rays")
    else:
        raise ValueError(f"unknown setting {name!r}; choose one of {EVALUATION_SETTINGS}")
    methods = _methods(smoke)
    if name in SUBSET_FRACTIONS and not smoke:  # this machine's budget: see SUBSET_FRACTIONS
        subsets = {m: SUBSET_FRACTIONS[name] for m in COSTLY if m in methods}
    return {"model": model, "data": source, "methods": methods, "metrics": metrics,
            "metric_options": metric_options_for(images, smoke), "subsets": subsets,
            "exclude": [(m, "max_sensitivity") for m in COSTLY if m in methods], "seed": 0,
            "recipe": {"study": "evaluation", "setting": name, "profile": profile,
                       "smoke": bool(smoke)}}



def evaluation_costs(settings=EVALUATION_SETTINGS, profile="offline", smoke=False):
    """Forward and backward passes per sample of every method in each setting
    (:func:`xai.evaluation.passes_table`): the deterministic part of a method's cost."""
    import pandas as pd

    from ..evaluation import passes_table
    frames = []
    for name in settings:
        try:
            s = evaluation_setting(name, profile, smoke)
        except FileNotFoundError:
            continue
        frames.append(passes_table(s["model"], s["methods"], s["seed"]).assign(setting=name))
    return pd.concat(frames, ignore_index=True)[["setting", "method", "forward", "backward",
                                                 "exact"]]

