"""Notebook 07's functions in xai.study_class: the cat/dog photo's classes, maps, figure and
separation table, and the dataset section's statistics, checked against computations made
here (the NumPy IoU and peak distance of tests/test_study_class.py)."""
import numpy as np
import pandas as pd
import pytest
from test_study_class import np_peak_distance, np_top_iou

import xai
import xai.stats
from xai import study_class
from xai.imagenet import imagenet_class_names

from helpers import gap_net


def test_cat_dog_classes_are_the_most_probable_of_each_kind():
    probs = np.random.default_rng(1).dirichlet(np.ones(1000))
    classes = study_class.cat_dog_classes(probs)
    assert classes == {"cat": max(range(281, 286), key=lambda c: probs[c]),
                       "dog": max(range(151, 269), key=lambda c: probs[c])}


def test_top_classes_lists_the_decoded_classes_then_cat_and_dog():
    class Zoo:
        def decode(self, probs, top):
            assert top == 5
            return [[(242, "boxer", 0.3456), (243, "bull_mastiff", 0.2649)]]

    probs = np.zeros((1, 1000))
    probs[0, 281], probs[0, 242] = 0.0064, 0.3456
    names = imagenet_class_names()
    text = study_class.top_classes(Zoo(), probs, {"cat": 281, "dog": 242})
    assert text == ("1. boxer (242): 0.346\n2. bull_mastiff (243): 0.265\n"
                    f"best cat class: {names[281]} (281) 0.006; "
                    f"best dog class: {names[242]} (242) 0.346")


def test_cat_dog_maps_are_the_methods_maps_for_each_class(tmp_path):
    class Zoo:
        model = gap_net(seed=2, size=12, classes=4)
        default_layer = "conv_b"
        name = "gap"

    x = np.random.default_rng(0).uniform(0, 1, (1, 12, 12, 3)).astype(np.float32)
    classes = {"cat": 1, "dog": 3}
    maps, counter = study_class.cat_dog_maps(Zoo, x, classes, ["gradcam", "scorecam"])
    assert set(maps) == {(w, m) for w in classes for m in ("gradcam", "scorecam")}
    assert set(counter) == {("cat", "gradcam"), ("dog", "gradcam")}  # Score-CAM has none
    for who, c in classes.items():
        np.testing.assert_allclose(maps[who, "gradcam"], xai.explain(
            Zoo.model, x, method="gradcam", layer="conv_b", target=c)[0], atol=1e-6)
        np.testing.assert_allclose(counter[who, "gradcam"], xai.explain(
            Zoo.model, x, method="gradcam", layer="conv_b", target=c, counterfactual=True)[0],
            atol=1e-6)
    assert not np.allclose(maps["cat", "gradcam"], maps["dog", "gradcam"])
    image = (x[0] * 255).astype(np.uint8)
    fig = study_class.cat_dog_figure(Zoo, image, maps, counter, classes,
                                     ["gradcam", "scorecam"], path=tmp_path / "maps.png")
    assert (tmp_path / "maps.png").is_file()
    grid, bar = fig.axes[:-1], fig.axes[-1]
    assert len(grid) == 4 * 3 and not grid[-1].images  # no Score-CAM counterfactual
    # the photo once, top left; each row named left of its first map
    assert [bool(grid[3 * r].images) for r in range(4)] == [True, False, False, False]
    np.testing.assert_array_equal(grid[0].images[0].get_array(), image)
    assert grid[4].get_ylabel() == f"dog: {imagenet_class_names()[3]}"
    assert bar.get_ylabel() == "map value over the photo (0 = low, 1 = high)"
    notes = {k: [t.get_text() for t in ax.texts] for k, ax in enumerate(grid) if ax.texts}
    assert notes == {}  # no empty map here


def test_cat_dog_figure_labels_an_empty_map():
    class Zoo:
        name = "tiny"

    maps, counter = _cat_dog_maps()
    image = np.full((10, 10, 3), 128, np.uint8)
    fig = study_class.cat_dog_figure(Zoo, image, maps, counter, {"cat": 281, "dog": 242},
                                     ["gradcam", "scorecam"])
    notes = {k: [t.get_text() for t in ax.texts] for k, ax in enumerate(fig.axes[:-1])
             if ax.texts}
    assert notes == {3 * 3 + 1: ["empty map\n(all zeros)"]}  # row "against dog", Grad-CAM


def _cat_dog_maps():
    rng = np.random.default_rng(3)
    cat, dog = rng.uniform(0, 0.2, (2, 10, 10))
    cat[6:, :4] += 1  # the cat lies bottom left, the dog stands top right
    dog[:4, 5:] += 1
    maps = {("cat", "gradcam"): cat, ("dog", "gradcam"): dog,
            ("cat", "scorecam"): cat, ("dog", "scorecam"): cat}
    counter = {("cat", "gradcam"): dog * 0.5, ("dog", "gradcam"): np.zeros((10, 10))}
    return maps, counter


def test_separation_table_is_the_iou_and_peak_distance_of_the_maps(tmp_path):
    maps, counter = _cat_dog_maps()
    classes = {"cat": 281, "dog": 242}
    table = study_class.separation_table(maps, counter, classes, ["gradcam", "scorecam"], 0.2)
    row = table.set_index("method").loc["gradcam"]
    cat, dog = maps["cat", "gradcam"], maps["dog", "gradcam"]
    assert row["IoU cat vs dog"] == pytest.approx(np_top_iou(cat, dog, 0.2))
    assert row["peak distance cat vs dog"] == pytest.approx(np_peak_distance(cat, dog))
    assert row["IoU dog vs against-cat"] == pytest.approx(1.0)  # "against the cat" = the dog
    # an empty map has no region: its IoU is NaN (not the IoU of its first points), and noted
    assert np.isnan(row["IoU cat vs against-dog"])
    assert row["note"] == "empty map: against dog (its IoU is NaN)"
    score = table.set_index("method").loc["scorecam"]
    assert score["IoU cat vs dog"] == 1 and score["peak distance cat vs dog"] == 0
    assert np.isnan(score["IoU dog vs against-cat"]) and score["note"] == "-"
    study_class.save_separation(table, tmp_path, "cat_dog.png", "tiny", classes, 0.2)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "separation.csv", keep_default_na=False,
                                              na_values=[""]), table, check_dtype=False)
    names = imagenet_class_names()
    assert (tmp_path / "separation.md").read_text().startswith(
        f"# Cat vs dog maps on cat_dog.png (tiny; cat class {names[281]}, dog class "
        f"{names[242]}; top 20% regions)\n\n| method")


def _scored(n=30):
    """A table as with_subsets gives it: two CAMs and the two references, the top-1 map's and
    the counterfactual map's IoU with the runner-up's map."""
    rng = np.random.default_rng(5)
    rows = []
    for m, level in (("gradcam", 0.45), ("layercam", 0.65), ("random", 0.12), ("constant", 1)):
        top2 = np.clip(level + rng.normal(0, 0.05, n), 0, 1) if m != "constant" else np.ones(n)
        counter = np.clip(top2 - 0.2 + rng.normal(0, 0.05, n), 0, 1)
        rows += [(f"s{i:02d}", m, metric, v, "all") for metric, values in
                 (("top2_iou", top2), ("counterfactual_iou", counter))
                 for i, v in enumerate(values)]
    return pd.DataFrame(rows, columns=["sample", "method", "metric", "value", "photos"])


def test_imagenet_statistics_summarise_rank_and_pair(tmp_path):
    scored = _scored()
    directions = xai.evaluation.higher_is_better(scored)
    assert directions == {"top2_iou": False, "counterfactual_iou": True}
    sizes = scored.groupby(["photos", "method"], sort=False)["sample"].nunique().unstack()
    shown, rank_shown, against = study_class.imagenet_statistics(scored, directions, sizes,
                                                                 tmp_path, "tiny")
    summary = pd.read_csv(tmp_path / "imagenet_separation.csv")
    means = scored.groupby(["method", "metric"])["value"].mean()
    for r in summary.itertuples():
        assert r.mean == pytest.approx(means[r.method, r.metric], rel=1e-5)
    # counterfactual IoU minus the top-1 map's IoU, paired per photo
    wide = scored.pivot_table(index=["method", "sample"], columns="metric", values="value")
    diff = (wide["counterfactual_iou"] - wide["top2_iou"]).groupby("method").mean()
    got = against.set_index("method")
    for m in ("gradcam", "layercam"):
        assert got.loc[m, "d"] == pytest.approx(diff[m], abs=1e-9)
        assert got.loc[m, "mean"] == pytest.approx(means[m, "counterfactual_iou"], abs=1e-9)
        assert got.loc[m, "difference"] == "lower"  # the fixture's counterfactual IoU is 0.2 less
    assert rank_shown.loc[("all", "gradcam"), "top2_iou"] == "2"  # random 0.12 < gradcam 0.45
    assert (tmp_path / "imagenet_separation_ranks.csv").is_file()
    md = (tmp_path / "imagenet_separation.md").read_text()
    assert md.startswith("# Top-1 vs runner-up maps on the ImageNet photos (tiny)")
    assert "Ranks (paired intervals; = tied)" in md and shown.to_markdown(index=False) in md


def test_distribution_figure_has_one_box_per_method(tmp_path):
    scored = _scored().replace({"counterfactual_iou": "top2_rank_correlation"})
    fig = study_class.distribution_figure(scored, ["gradcam", "random"],
                                          tmp_path / "d.png")
    assert (tmp_path / "d.png").is_file()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["gradcam\nn=30", "random\nn=30"]
    assert [ax.get_title() for ax in fig.axes] == ["IoU, top-1 vs runner-up map",
                                                   "Rank correlation, top-1 vs runner-up map"]
