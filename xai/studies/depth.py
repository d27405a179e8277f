"""The depth study (notebook 06): CAMs at the first, middle and last layer of a network
(:func:`depth_model`, :func:`depth_setting`, :data:`DEPTH_METHODS`), and its table with the
layer as a column (:func:`by_depth`)."""
from __future__ import annotations

from .evaluation import metric_options_for
from .photos import imagenet_source

#: the CAMs notebook 06 compares at each depth
DEPTH_METHODS = ("gradcam", "gradcam++", "xgradcam", "eigencam", "layercam")
#: the architectures of notebook 06 in each profile
DEPTH_MODELS = {"offline": ("mobilenet",), "online": ("densenet121", "resnet152", "inceptionv3")}
_DEPTH_METRICS = ("deletion", "insertion", "drop_increase")
#: share of the 1000 photos scored (id-seeded: 241 photos): the 15 maps × 3 metrics cost about
#: 10 s a photo for MobileNet-0.25 on two busy CPU cores (forward passes: ~3 h for all 1000)
DEPTH_FRACTION = 0.25


def depth_model(name: str, profile: str = "offline"):
    """The :class:`xai.models.ZooModel` of architecture ``name`` for notebook 06: MobileNet
    with α = 0.25 (the offline weights), any other architecture with its ImageNet weights."""
    from .. import models

    key = models.canonical_name(name)  # ValueError listing the architectures
    if profile == "offline" and key != "mobilenet":
        raise ValueError(f"the offline profile has ImageNet weights for 'mobilenet' (α = 0.25) "
                         f"only, not {name!r}; use profile='online' to download them")
    return models.load(name, **({"alpha": 0.25} if key == "mobilenet" else {}))


def depth_setting(name: str, profile: str = "offline", smoke: bool = False) -> dict:
    """Keyword arguments of :func:`xai.evaluation.evaluate` for notebook 06 on architecture
    ``name``: each CAM of :data:`DEPTH_METHODS` at each layer of
    :func:`xai.models.depth_layers`, labelled ``"<method>@<depth>"`` (e.g. ``"gradcam@first"``
    → ``("gradcam", {"layer": "conv_pw_3_relu"})``), on an id-seeded :data:`DEPTH_FRACTION`
    of the 1000 centre-cropped ImageNet photos (241 photos), scored by deletion and insertion
    (10 steps, blurred pixels, σ = 10 px; Petsiuk et al. 2018) and Average Drop / Increase /
    Gain at 30 % kept (Chattopadhay et al. 2018), the options of notebook 08's photos.
    ``smoke``: 8 photos, two CAMs, 4 steps."""
    from .. import models

    zm = depth_model(name, profile)
    cams = DEPTH_METHODS[:2] if smoke else DEPTH_METHODS
    methods = {f"{m}@{d}": (m, {"layer": layer})
               for d, layer in models.depth_layers(name).items() for m in cams}
    options = metric_options_for(True, smoke)
    # the maps and the baselines' scores on the same id-seeded photos (the engine draws one
    # u(id) per photo for every entry of ``subsets``)
    subsets = {} if smoke else {k: DEPTH_FRACTION for k in (*methods, *_DEPTH_METRICS)}
    return {"model": zm.model, "data": imagenet_source(zm, smoke), "methods": methods,
            "metrics": list(_DEPTH_METRICS),
            "metric_options": {k: options[k] for k in _DEPTH_METRICS}, "subsets": subsets,
            "exclude": [], "seed": 0,
            "recipe": {"study": "depth", "setting": name, "profile": profile,
                       "smoke": bool(smoke)}}


def by_depth(table):
    """A depth setting's per-sample table with the layer as a column: the label
    ``"gradcam@middle"`` becomes ``method`` "gradcam" and ``depth`` "middle"; the rows of the
    baselines (``"random"``, ``"constant"``: no layer) are repeated under every depth, so the
    statistics pair each layer's methods with them (depths in order of appearance)."""
    import pandas as pd

    if table.empty:
        raise ValueError("by_depth got an empty table; run the depth setting first")
    split = table["method"].str.split("@", n=1, expand=True).reindex(columns=[0, 1])
    layered = split[1].notna()
    if not layered.any():
        raise ValueError("no '<method>@<depth>' labels in the table (e.g. 'gradcam@first'): "
                         "is it a depth setting's table (xai.studies.depth_setting)?")
    maps = table[layered].assign(method=split.loc[layered, 0], depth=split.loc[layered, 1])
    baselines = [table[~layered].assign(depth=d) for d in pd.unique(maps["depth"])]
    return pd.concat([maps, *baselines], ignore_index=True)

