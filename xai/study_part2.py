"""Part 2 (notebook 02): Integrated Gradients combined with CAMs. On the sample photos
(:func:`photos`): IG's completeness table, the CAMs, the direct and indirect combinations, IG
averaged over noisy copies with its spectral check, and their figures. At dataset scale: is a
combination more faithful than the CAM alone and than IG alone? Every map of Part 2 as a method
of :func:`xai.evaluation.evaluate` (:func:`part2_setting`), scored by deletion and insertion on
the ImageNet photos (IG and each CAM computed once per photo and shared by the maps that combine
them), and its paired statistics (:func:`faithfulness`)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from . import studies

# the study's figures, reached as xai.study_part2.<name> by notebook 02
from .study_part2_figures import direct_figures, indirect_figures, noise_figure  # noqa: F401

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


# --- notebook 02's sample photos, maps, tables and figures ------------------------------------

#: the skimage photos of Part 2, before the offline assets' images/*.jpg
SAMPLE_PHOTOS = ("chelsea", "coffee", "astronaut")


@dataclass(frozen=True)
class Photos:
    """The sample photos as the model sees them: their ``names``, ``images`` (uint8 (N, H, W, 3):
    each photo's centre square resized to the model's input, "area"), ``x`` (preprocessed) and
    ``top`` ((class index, class name, probability) of each photo's top-1 class)."""
    names: list
    images: np.ndarray
    x: np.ndarray
    top: list

    @property
    def targets(self) -> list:
        """Each photo's top-1 class index."""
        return [t[0] for t in self.top]


def sample_photos(study, images=None, smoke: bool = False) -> dict:
    """{name: RGB uint8 photo}: skimage's :data:`SAMPLE_PHOTOS`, then the offline assets'
    ``images/*.jpg``; or the images of the folder ``images`` (relative to notebooks/, via
    ``study.path``). ``smoke``: the first two."""
    from . import data

    if images is None:
        photos = data.sample_images()
        originals = {name: photos[name] for name in SAMPLE_PHOTOS}
        originals.update({p.stem: data.load_image(p)
                          for p in sorted((study.assets / "images").glob("*.jpg"))})
    else:
        originals = {p.stem: data.load_image(p)
                     for p in sorted(study.path(images, "images").iterdir())
                     if p.suffix.lower() in data.IMAGE_EXTENSIONS}
    if smoke:
        originals = dict(list(originals.items())[:2])
    return originals


def photos(zm, originals: dict) -> Photos:
    """The :class:`Photos` of ``originals`` for the zoo model ``zm``: centre-cropped to their
    largest central square (as in Part 1), resized to the model's input with the aspect ratio
    kept, preprocessed, and classified (top-1 by probability)."""
    from . import data, scores, viz

    x_img = viz.resize([data.centre_crop(im) for im in originals.values()], zm.input_size, "area")
    x = zm.preprocess(x_img)
    top = [t[0] for t in zm.decode(scores.class_scores(zm.model, x, "probability"), top=1)]
    return Photos(list(originals), x_img, x, top)


def ig_completeness(model, photos: Photos, baseline, gap, steps_used):
    """IG's completeness per photo: its class, the IG ``steps_used``, the class logit of the
    photo and of the ``baseline`` (rounded to 2 decimals) and whether IG's ``gap``
    |Σ IG − (S(x) − S(baseline))| is within 1 % of |S(x) − S(baseline)|. Σ IG itself is left
    out: it moves in the second decimal between CPUs."""
    import pandas as pd

    from . import scores

    x, targets = photos.x, photos.targets
    score_x = scores.class_scores(model, x)[np.arange(len(x)), targets]
    score_b = scores.class_scores(model, baseline)[np.arange(len(x)), targets]
    return pd.DataFrame({
        "image": photos.names, "class": [t[1] for t in photos.top], "steps": steps_used,
        "logit_x": np.round(score_x, 2), "logit_baseline": np.round(score_b, 2),
        "gap_within_1_percent": np.abs(gap) <= 0.01 * np.abs(score_x - score_b)})


def write_completeness(table, out, model: str, steps) -> None:
    """Write :func:`ig_completeness`'s ``table`` as ``ig_completeness.csv`` and ``.md`` in
    ``out``, the markdown titled with the model and the IG ``steps`` parameter."""
    table.to_csv(out / "ig_completeness.csv", index=False)
    (out / "ig_completeness.md").write_text(
        f"# IG completeness ({model}, black baseline, steps={steps})\n\n"
        + table.to_markdown(index=False) + "\n")


def part2_cams(zm, photos: Photos, methods, smooth_n: int, seed: int) -> dict:
    """{method: CAMs (N, h, w)} of each CAM method at the model's default layer, for each
    photo's top-1 class; Smooth Grad-CAM++ with ``smooth_n`` noisy copies drawn from ``seed``."""
    from . import explain

    options = {"smooth_gradcam++": {"n": smooth_n, "seed": seed}}
    return {m: explain(zm.model, photos.x, method=m, layer=zm.default_layer,
                       target=photos.targets, **options.get(m, {}))
            for m in methods}


def noisy_ig_map(model, x, targets, baseline, copies: int, spread: float, seed: int = 0,
                 **ig_options):
    """Σ_c of IG averaged over ``copies`` noisy copies x + N(0, σ²) of ``x`` (σ = ``spread`` ×
    the value range of ``x[0]``, noise drawn from ``seed``), each explained for ``targets``
    against ``baseline`` with ``ig_options`` (steps, batch_size): SmoothGrad applied to IG."""
    from . import explain, viz

    noise_rng = np.random.default_rng(seed)
    sigma = spread * float(np.ptp(x[0]))
    noisy_ig = np.mean([explain(model, x + noise_rng.normal(0, sigma, x.shape).astype(np.float32),
                                method="integrated_gradients", target=targets,
                                baseline=baseline, progress=False, **ig_options)
                        for _ in range(copies)], axis=0)
    return viz.attribution_to_map(noisy_ig, "sum")


def lattice_energy(signed_map, period: int = 32) -> tuple[float, float]:
    """How much of a 2-D map's spectral energy (its mean removed) sits on the lattice of
    frequencies of a ``period``-pixel periodic pattern (multiples of size / period cycles per
    image along each axis, the mean excluded), and that lattice's share of all frequencies:
    about equal means no ``period``-pixel grid in the map."""
    m = np.asarray(signed_map)
    on_lattice = np.outer(*(np.arange(n) % max(n // period, 1) == 0 for n in m.shape))
    on_lattice[0, 0] = False  # not the mean
    power = np.abs(np.fft.fft2(m - m.mean())) ** 2
    return float(power[on_lattice].sum() / power.sum()), float(on_lattice.mean())


def direct_maps(cams: dict, ig) -> dict:
    """Experiment 1: {method: CAM ⊙ Σ_c IG} (:func:`xai.combine.direct`)."""
    from . import combine

    return {m: combine.direct(cam, ig) for m, cam in cams.items()}


def indirect_maps(cams: dict, ig, images, alpha: float, percentile: float) -> dict:
    """Experiment 2: ``ig_x_image`` (IG ⊙ the displayed ``images`` scaled to [0, 1]), and per
    CAM method its ``product`` with Σ_c (IG ⊙ image) and the ``overlay`` (1 − alpha)·s +
    alpha·CAM, s scaled to [−1, 1] by the ``percentile`` of |s| (:mod:`xai.combine`)."""
    from . import combine

    ig_x_image = combine.indirect(ig, images / 255.0)  # the displayed image in [0, 1]
    product = {m: combine.indirect_product(ig_x_image, cams[m]) for m in cams}
    blend = {m: combine.indirect_overlay(ig_x_image, cams[m], alpha=alpha,
                                         percentile=percentile) for m in cams}
    return {"ig_x_image": ig_x_image, "product": product, "overlay": blend}


def faithfulness(table, out, model_name: str, seed: int = 0):
    """Notebook 02's dataset statistics from the per-sample ``table`` (:func:`part2_setting`):
    the paired summary per CAM (:func:`by_cam`; each map against its CAM alone, IG alone, the
    random and constant maps), the direct and product maps' paired differences (``contrasts``)
    and the ranks; writes ``faithfulness.csv``, ``faithfulness_ranks.csv`` and
    ``faithfulness.md`` in ``out`` and returns ``(shown, contrasts, ranks)``, ``shown`` the
    formatted summary."""
    from . import evaluation, stats

    directions = evaluation.higher_is_better(table)
    per_cam = by_cam(table)
    summary = stats.summarise(per_cam, directions, by=("cam",),
                              baselines=("cam", "ig", "random", "constant"), seed=seed)
    summary.to_csv(out / "faithfulness.csv", index=False, float_format="%.6g")
    shown = stats.format_summary(summary)
    contrasts = summary[summary["method"].isin(["direct", "product"])][
        ["cam", "method", "metric", "n", "mean", "d_cam", "d_cam_lo", "d_cam_hi", "vs_cam",
         "d_ig", "d_ig_lo", "d_ig_hi", "vs_ig"]]
    ranks = stats.rank_table(table, directions, by=(), seed=seed, margin=5e-4)
    ranks.to_csv(out / "faithfulness_ranks.csv", index=False)
    (out / "faithfulness.md").write_text(
        f"# Part 2 maps: deletion and insertion on {table['sample'].nunique()} ImageNet photos "
        f"({model_name})\n\n" + stats.LEGEND + " Here also ▲/▼cam and ▲/▼i: against the CAM "
        "alone and IG alone.\n\n" + shown.to_markdown(index=False) + "\n\nPaired differences "
        "(map − CAM alone, map − IG alone; Holm within each CAM's group):\n\n"
        + contrasts.to_markdown(index=False, floatfmt=".3f") + "\n\nRanks:\n\n"
        + ranks.to_markdown(index=False, floatfmt=".3f") + "\n")
    return shown, contrasts, ranks
