"""Part 2 at dataset scale (notebook 02): is a combination of Integrated Gradients with a CAM
more faithful than the CAM alone and than IG alone? Every map of Part 2 as a method of
:func:`xai.evaluation.evaluate` (:func:`part2_setting`), scored by deletion and insertion on
the ImageNet photos; IG and each CAM are computed once per photo and shared by the maps that
combine them."""
from __future__ import annotations

import hashlib

import numpy as np

from . import studies

#: Part 1's CAMs, combined with IG in Part 2
PART2_CAMS = ("gradcam", "gradcam++", "smooth_gradcam++")
#: IG's integration steps at dataset scale (fixed: the notebook's "auto" would cost up to 8×)
PART2_IG_STEPS = 32
#: share of the 1000 photos scored (id-seeded, the same photos as notebook 06's: 241)
PART2_FRACTION = 0.25
_METRICS = ("deletion", "insertion")


class _Memo:
    """The last batch's IG and CAMs, keyed by what is computed and the batch's bytes: the
    engine asks every method for the same photos in turn."""

    def __init__(self):
        self.key, self.values = None, {}

    def get(self, what, x, target, compute):
        key = hashlib.sha1(np.ascontiguousarray(x).tobytes()
                           + np.asarray(target, np.int64).tobytes()).hexdigest()
        if key != self.key:
            self.key, self.values = key, {}
        if what not in self.values:
            self.values[what] = compute()
        return self.values[what]


class Part2Map:
    """One of Part 2's maps as an engine method ``f(model, x, target=...)``: ``kind`` "ig"
    (IG against a black image), "ig_x_image" (IG ⊙ the image in [0, 1]), "cam", "direct"
    (|CAM ⊙ Σc IG|) or "product" (|CAM ⊙ Σc (IG ⊙ image)|); signed maps are shown by their
    magnitude, as the engine shows attributions."""

    def __init__(self, kind, cam, memo, layer, black, white, steps, smooth):
        self.kind, self.cam, self.memo, self.layer = kind, cam, memo, layer
        self.black, self.white, self.steps, self.smooth = black, white, steps, smooth

    def __repr__(self):  # the manifest's description of the method: stable across runs
        return (f"Part2Map({self.kind!r}, cam={self.cam!r}, layer={self.layer!r}, "
                f"ig_steps={self.steps}, smooth={self.smooth})")

    def _ig(self, model, x, target):
        from . import explain
        return self.memo.get("ig", x, target, lambda: explain(
            model, x, method="integrated_gradients", target=target,
            baseline=np.broadcast_to(self.black, x.shape).copy(), steps=self.steps, progress=False))

    def _cam(self, model, x, target):
        from . import explain
        options = self.smooth if self.cam == "smooth_gradcam++" else {}
        return self.memo.get(self.cam, x, target, lambda: explain(
            model, x, method=self.cam, layer=self.layer, target=target, progress=False,
            **options))

    def __call__(self, model, x, target=None):
        from . import combine

        if self.kind == "cam":
            return self._cam(model, x, target)
        ig = self._ig(model, x, target)
        if self.kind == "ig":
            return ig
        image = (x - self.black) / (self.white - self.black)  # the photo in [0, 1]
        if self.kind == "ig_x_image":
            return combine.indirect(ig, image)
        cam = self._cam(model, x, target)
        if self.kind == "direct":
            return np.abs(combine.direct(cam, ig))
        return np.abs(combine.indirect_product(combine.indirect(ig, image), cam))


def part2_methods(zm, smoke: bool = False) -> dict:
    """{label: :class:`Part2Map`} of Part 2's maps for ``zm``: ``ig``, ``ig_x_image``, each
    CAM of :data:`PART2_CAMS` (Smooth Grad-CAM++: n = 25, seed 0; smoke: Grad-CAM only, n = 2)
    and its ``direct:<cam>`` and ``product:<cam>`` combinations, sharing one memo."""
    memo = _Memo()
    black = zm.preprocess(np.zeros((1, 1, 1, 3), np.uint8))
    white = zm.preprocess(np.full((1, 1, 1, 3), 255, np.uint8))
    common = {"memo": memo, "layer": zm.default_layer, "black": black, "white": white,
              "steps": 8 if smoke else PART2_IG_STEPS, "smooth": {"n": 25, "seed": 0}}
    methods = {"ig": Part2Map("ig", None, **common),
               "ig_x_image": Part2Map("ig_x_image", None, **common)}
    for cam in PART2_CAMS[:1] if smoke else PART2_CAMS:
        for kind, label in (("cam", cam), ("direct", f"direct:{cam}"),
                            ("product", f"product:{cam}")):
            methods[label] = Part2Map(kind, cam, **common)
    return methods


def part2_setting(name: str = "photos", profile: str = "offline", smoke: bool = False) -> dict:
    """Keyword arguments of :func:`xai.evaluation.evaluate` for notebook 02's dataset table:
    the maps of :func:`part2_methods` on an id-seeded :data:`PART2_FRACTION` of the 1000
    centre-cropped ImageNet photos (MobileNet-0.25 offline, VGG16 online), scored by deletion
    and insertion (10 steps, blurred pixels, σ = 10 px; notebook 08's photo options), with the
    random and constant maps on the same photos. ``smoke``: 8 photos, Grad-CAM, 8 IG steps,
    4 deletion steps."""
    if name != "photos":
        raise ValueError(f"the Part 2 study has one setting, 'photos'; got {name!r}")
    zm = studies.photo_model(profile)
    methods = part2_methods(zm, smoke)
    options = studies.metric_options_for(True, smoke)
    subsets = {} if smoke else {k: PART2_FRACTION for k in (*methods, *_METRICS)}
    return {"model": zm.model, "data": studies.imagenet_source(zm, smoke), "methods": methods,
            "metrics": list(_METRICS), "metric_options": {k: options[k] for k in _METRICS},
            "subsets": subsets, "exclude": [], "seed": 0,
            "recipe": {"study": "part2", "setting": name, "profile": profile,
                       "smoke": bool(smoke)}}


#: a manifest's recipe {"study": "part2", ...} is rebuilt by :func:`part2_setting`
studies.BUILDERS["part2"] = part2_setting


def by_cam(table):
    """The Part 2 table regrouped per CAM for paired comparisons with the CAM alone: a ``cam``
    column, and in each CAM's group the methods ``cam`` (the CAM alone), ``direct``,
    ``product``, with ``ig``, ``ig_x_image`` and the baselines repeated, so
    ``xai.stats.summarise(..., by=("cam",), baselines=("cam", "ig", "random", "constant"))``
    pairs each combination with its own CAM, with IG and with the baselines."""
    import pandas as pd

    cams = [m for m in pd.unique(table["method"]) if f"direct:{m}" in set(table["method"])]
    if not cams:
        raise ValueError("no 'direct:<cam>' methods in the table: is it the Part 2 study's "
                         "table (xai.study_part2.part2_setting)?")
    shared = table[~table["method"].str.contains(":") & ~table["method"].isin(cams)]
    parts = []
    for cam in cams:
        own = table[table["method"].isin([cam, f"direct:{cam}", f"product:{cam}"])]
        own = own.assign(method=own["method"].str.split(":").str[0].where(
            own["method"] != cam, "cam"))
        parts.append(pd.concat([own, shared]).assign(cam=cam))
    return pd.concat(parts, ignore_index=True)
