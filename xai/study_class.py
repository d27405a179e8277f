"""Class-specific maps at dataset scale (notebook 07): on the 1000 ImageNet photos, how
different each CAM's map for the top-1 class is from its map for the runner-up class, and
what its counterfactual map of the top-1 class shows (:func:`class_setting`), with the
class-agnostic (constant) and chance (random) references; :func:`with_subsets` splits the
table by how far apart the two classes are."""
from __future__ import annotations

from . import studies

#: the CAMs of notebook 07 (Score-CAM uses no gradients: it has no counterfactual map)
CLASS_METHODS = ("gradcam", "gradcam++", "layercam", "scorecam")
#: share of the photos Score-CAM runs on (id-seeded: about 250 of 1000; two maps of 1024 masked
#: passes each per photo, ~1 s on an idle 2-core machine)
SCORECAM_FRACTION = 0.25
#: the "top region" of a map for the IoU, as in the cat/dog demonstration
TOP_FRACTION = 0.2
#: a runner-up this probable is a real second candidate
RUNNER_UP_PROBABILITY = 0.1
#: ImageNet classes 0-397 are animals, 398-999 objects, scenes and food
ANIMALS = 398


def class_setting(name: str = "photos", profile: str = "offline", smoke: bool = False) -> dict:
    """Keyword arguments of :func:`xai.evaluation.evaluate` for notebook 07's dataset section:
    each CAM of :data:`CLASS_METHODS` at the model's default layer on the 1000 centre-cropped
    ImageNet photos (MobileNet-0.25 offline, VGG16 online), scored by ``class_separation``
    (IoU of the top-:data:`TOP_FRACTION` regions and peak distance of the maps for the top-1
    and the runner-up class) and ``counterfactual`` (gradient CAMs: is the top-1's
    counterfactual map empty; its IoU with the runner-up's map). Score-CAM runs on an
    id-seeded :data:`SCORECAM_FRACTION` of the photos. ``smoke``: 8 photos, Grad-CAM and
    Score-CAM."""
    if name != "photos":
        raise ValueError(f"the class-specific study has one setting, 'photos'; got {name!r}")
    zm = studies.photo_model(profile)
    cams = ("gradcam", "scorecam") if smoke else CLASS_METHODS
    options = {"fraction": TOP_FRACTION}
    return {"model": zm.model, "data": studies.imagenet_source(zm, smoke),
            "methods": {m: (m, {"layer": zm.default_layer}) for m in cams},
            "metrics": ["class_separation", "counterfactual"],
            "metric_options": {"class_separation": options, "counterfactual": options},
            "subsets": {} if smoke else {"scorecam": SCORECAM_FRACTION},
            "exclude": [("scorecam", "counterfactual")], "seed": 0,
            "recipe": {"study": "class_specific", "setting": name, "profile": profile,
                       "smoke": bool(smoke)}}


def with_subsets(table, min_probability: float = RUNNER_UP_PROBABILITY):
    """The study's table with a ``photos`` column, its rows repeated per subset: ``all``;
    ``runner-up p ≥ <min_probability>`` (the model gives the second class a real share);
    ``animal vs other`` (one class is an animal, ImageNet 0-397, the other not: two different
    things, so their maps should part). Only the directional metrics are kept; a photo's
    runner-up is read from its ``runner_up`` rows."""
    import pandas as pd

    need = {"runner_up", "runner_up_probability"}
    if not need <= set(table["metric"]):
        raise ValueError("the table has no runner_up rows: is it the class-specific study's "
                         "table (xai.study_class.class_setting, metric class_separation)?")
    per = (table[table["metric"].isin(need)].drop_duplicates(["sample", "metric"])
           .pivot(index="sample", columns="metric", values="value"))
    target = table.drop_duplicates("sample").set_index("sample")["target"]
    split = (target.loc[per.index] < ANIMALS) != (per["runner_up"] < ANIMALS)
    picks = {"all": per.index,
             f"runner-up p ≥ {min_probability:g}":
                 per.index[per["runner_up_probability"] >= min_probability],
             "animal vs other": per.index[split.to_numpy()]}
    scores = table[~table["metric"].isin(need)]
    return pd.concat([scores[scores["sample"].isin(ids)].assign(photos=name)
                      for name, ids in picks.items()], ignore_index=True)


#: a manifest's recipe {"study": "class_specific", ...} is rebuilt by :func:`class_setting`
studies.BUILDERS["class_specific"] = class_setting
