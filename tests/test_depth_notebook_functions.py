"""Notebook 06's functions in xai.studies.depth: its photos, its maps at three layers, its
statistics tables and their figure, checked against computations made here."""
import numpy as np
import pandas as pd
import pytest

import xai.stats
from xai.studies import depth


def _layered(seed=0, n=12):
    """A per-sample table as by_depth gives it: two layers, two CAMs and the two baselines,
    insertion (higher is better) and deletion (lower is better)."""
    rng = np.random.default_rng(seed)
    rows = [("mobilenet", d, m, f"s{i:02d}", metric, rng.uniform() + shift)
            for d in ("first", "last")
            for m, shift in (("gradcam", 0.3), ("layercam", 0.3), ("random", 0.0),
                             ("constant", 0.1))
            for metric in ("insertion", "deletion") for i in range(n)]
    return pd.DataFrame(rows, columns=["model", "depth", "method", "sample", "metric", "value"])


def test_marked_ranks_and_rank_grid_mark_shared_ranks():
    layered = _layered()
    directions = {"insertion": True, "deletion": False}
    ranks = xai.stats.rank_table(layered, directions, by=("model", "depth"), n_boot=200)
    summary = xai.stats.summarise(layered, directions, by=("model", "depth"), n_boot=200)
    grid = depth.rank_grid(ranks, summary, ("model", "depth", "method"))
    # the summary's row order, one column per metric
    assert list(grid.index) == list(summary[["model", "depth", "method"]].drop_duplicates()
                                    .itertuples(index=False, name=None))
    for r in ranks.itertuples():
        shared = ((ranks["model"] == r.model) & (ranks["depth"] == r.depth)
                  & (ranks["metric"] == r.metric) & (ranks["rank"] == r.rank)).sum() > 1
        assert grid.loc[(r.model, r.depth, r.method), r.metric] == \
            f"{r.rank}{'=' if shared else ''}"
    assert ranks["tied"].any() and not ranks["tied"].all(), "the fixture has ties and non-ties"


def test_depth_summary_writes_the_means_of_the_table(tmp_path):
    layered = _layered()
    sizes = layered.groupby(["model", "depth", "method"], sort=False)["sample"].nunique()\
        .unstack()
    directions, summary, shown = depth.depth_summary(layered, sizes, tmp_path)
    assert directions == {"insertion": True, "deletion": False}
    written = pd.read_csv(tmp_path / "depth_faithfulness.csv")
    means = layered.groupby(["depth", "method", "metric"])["value"].mean()
    for r in written.itertuples():
        assert r.mean == pytest.approx(means[r.depth, r.method, r.metric], rel=1e-5)
    md = (tmp_path / "depth_faithfulness.md").read_text()
    assert md.startswith("# Faithfulness of CAMs by depth\n\n" + xai.stats.LEGEND)
    assert shown.to_markdown(index=False) in md and "|   constant |" in md


def test_depth_ranks_writes_both_rank_tables(tmp_path):
    layered = _layered()
    table = layered.assign(method=np.where(layered["method"].isin(["random", "constant"]),
                                           layered["method"],
                                           layered["method"] + "@" + layered["depth"]))
    table = table[~(table["method"].isin(["random", "constant"]) & (table["depth"] == "last"))]
    directions = {"insertion": True, "deletion": False}
    summary = xai.stats.summarise(layered, directions, by=("model", "depth"), n_boot=200)
    rank_shown, overall = depth.depth_ranks(table.drop(columns="depth"), layered, summary,
                                            directions, tmp_path)
    per_layer = pd.read_csv(tmp_path / "depth_ranks.csv")
    across = pd.read_csv(tmp_path / "depth_ranks_overall.csv")
    assert len(per_layer) == 2 * 4 * 2 and len(across) == 6 * 2  # 4 CAM labels + 2 baselines
    assert set(overall["metric"]) == {"deletion", "insertion"}
    # the best insertion of all maps is a map of a higher mean than every other
    best = across[(across["metric"] == "insertion") & (across["rank"] == 1)]["method"]
    means = table[table["metric"] == "insertion"].groupby("method")["value"].mean()
    assert means.idxmax() in set(best)
    assert rank_shown.shape == (2 * 4, 2)


def test_faithfulness_figure_draws_the_summary(tmp_path):
    layered = _layered()
    directions = {"insertion": True, "deletion": False}
    summary = xai.stats.summarise(layered, directions, by=("model", "depth"), n_boot=200)
    (fig,) = depth.faithfulness_figures(summary, directions, ["gradcam", "layercam"], tmp_path,
                                        panels=("deletion", "insertion"))
    assert (tmp_path / "mobilenet_faithfulness.png").stat().st_size > 5_000
    ax = fig.axes[1]  # insertion
    lines = [c for c in ax.containers]  # one errorbar container per method
    want = summary[(summary["metric"] == "insertion") & (summary["method"] == "layercam")]
    np.testing.assert_allclose(np.asarray(lines[1].lines[0].get_ydata(), float),
                               want["mean"].to_numpy(float))
    random = summary[(summary["metric"] == "insertion") & (summary["method"] == "random")]
    assert ax.lines[-2].get_ydata()[0] == pytest.approx(random["mean"].iloc[0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["first", "last"]
    assert ax.get_title() == "insertion (higher is better)"


def test_depth_photos_keeps_the_order_asked_and_drops_unknown_names(assets):
    import xai.data

    photos = depth.depth_photos(["collies", "nowhere", "chelsea"], assets)
    assert list(photos) == ["collies", "chelsea"]
    np.testing.assert_array_equal(photos["collies"],
                                  xai.data.load_image(assets / "images" / "collies.jpg"))


def test_depth_maps_run_at_the_three_layers(assets):
    """MobileNet at 224: feature maps of 56, 14 and 7 points a side; each map is Grad-CAM at
    the named layer for the top-1 class of the photo as the model sees it."""
    import xai
    from xai import models

    zm = depth.depth_model("mobilenet", "offline")
    photos = depth.depth_photos(["chelsea"], assets)
    images, top1, maps, sizes = depth.depth_maps(zm, "mobilenet", photos, ["gradcam"])
    assert images.shape == (1, 224, 224, 3) and images.dtype == np.uint8
    assert {d: tuple(s) for d, s in sizes.items()} == {"first": (56, 56), "middle": (14, 14),
                                                       "last": (7, 7)}
    x = zm.preprocess(images)
    assert top1[0] == zm.model.predict(x, verbose=0).argmax()
    layer = models.depth_layers("mobilenet")["middle"]
    np.testing.assert_allclose(maps["middle", "gradcam"],
                               xai.explain(zm.model, x, method="gradcam", layer=layer,
                                           target=top1, progress=False), atol=1e-6)
    assert not np.allclose(maps["middle", "gradcam"], maps["last", "gradcam"], atol=1e-2)


def test_depth_photos_include_the_png_photo(assets):
    import xai.data

    photos = depth.depth_photos(["cat_dog"], assets)
    np.testing.assert_array_equal(photos["cat_dog"],
                                  xai.data.load_image(assets / "images" / "cat_dog.png"))


def test_depth_photos_include_imagenet_samples_by_file_stem(assets):
    import xai.data

    photos = depth.depth_photos(["n02930766_cab", "n00000000_nothing"], assets)
    assert list(photos) == ["n02930766_cab"]
    np.testing.assert_array_equal(
        photos["n02930766_cab"],
        xai.data.load_image(assets / "imagenet_samples" / "n02930766_cab.jpg"))


def test_feature_maps_draw_the_three_depth_layers_of_the_photo(assets, tmp_path):
    """Rows = the layers of depth_layers, first → last, each with its activation's shape;
    the input panel is the photo's centre square as the model sees it."""
    import cv2

    import xai.data
    from xai import models

    fig = depth.feature_maps("mobilenet", "collies", assets, "offline", tmp_path, n_channels=3)
    assert (tmp_path / "mobilenet_feature_maps_collies.png").stat().st_size > 10_000
    labels = [ax.get_ylabel() for ax in fig.axes if "\n" in ax.get_ylabel()]  # not the bars
    layers = list(models.depth_layers("mobilenet").values())
    assert [lab.split("\n")[0] for lab in labels] == layers
    assert [lab.split("\n")[1] for lab in labels] == ["56×56×32", "14×14×128", "7×7×256"]
    photo = xai.data.load_image(assets / "images" / "collies.jpg")  # 228 wide, 219 high
    want = cv2.resize(photo[:, 4:223], (224, 224), interpolation=cv2.INTER_AREA)
    shown = fig.axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(np.asarray(shown) * 255, want, atol=1)
    with pytest.raises(ValueError, match="no photo 'nowhere'"):
        depth.feature_maps("mobilenet", "nowhere", assets, "offline", tmp_path)
