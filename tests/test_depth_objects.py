"""Notebook 06 on multi-object photos (xai.studies.depth_objects): the boxes on the centred
square, the split of a map's mass between boxes and the peak's box, checked on maps whose
mass and peak are known by construction; the tables' shape and columns."""
import numpy as np
import pandas as pd
import pytest

from xai.studies import depth_objects as do


def _two_boxes():
    """A 4 x 6 map with mass 3 in box A (rows 0-1, columns 0-1), 5 in box B (rows 2-3,
    columns 3-5) and 2 outside both: shares 0.3, 0.5, 0.2."""
    m = np.zeros((4, 6))
    m[0, 0], m[1, 1] = 1.0, 2.0  # A: 3
    m[2, 3], m[3, 5] = 4.0, 1.0  # B: 5
    m[0, 4] = 2.0  # outside: 2
    a, b = np.zeros((4, 6), bool), np.zeros((4, 6), bool)
    a[0:2, 0:2], b[2:4, 3:6] = True, True
    return m, np.stack([a, b])


def test_mass_split_matches_the_hand_computed_shares():
    m, masks = _two_boxes()
    np.testing.assert_allclose(do.mass_split(m[None], masks), [[0.3, 0.5, 0.2]])
    # a box over the whole top row (overlapping A) counts the mass it shares with A
    top = np.zeros((4, 6), bool)
    top[0] = True
    split = do.mass_split(np.stack([m, 2 * m]), np.stack([*masks, top]))
    # the top row holds m[0, 0] (also in A) and m[0, 4] (the mass outside A and B): 3 / 10,
    # and no mass is left outside the three boxes; scaling a map does not change its shares
    np.testing.assert_allclose(split, [[0.3, 0.5, 0.3, 0.0]] * 2, atol=1e-12)
    assert split[0].sum() > 1  # overlapping boxes: the shares add up to more than 1


def test_peak_regions_names_the_box_holding_the_maximum():
    m, masks = _two_boxes()
    outside = m.copy()
    outside[0, 4] = 9.0
    flat = np.ones_like(m)
    peaks = do.peak_regions(np.stack([m, outside, flat]), masks)
    np.testing.assert_array_equal(peaks, [[False, True, False],  # 4.0 at (2, 3) in B
                                          [False, False, True],  # 9.0 at (0, 4): no box
                                          [False, False, False]])  # flat: no peak
    both = np.stack([masks[1], masks[1] | masks[0]])  # two boxes holding the same peak
    assert do.peak_regions(m[None], both).tolist() == [[True, True, False]]


def test_masks_must_be_boolean_and_of_the_maps_size():
    m, masks = _two_boxes()
    with pytest.raises(ValueError, match="object_masks"):
        do.mass_split(m[None], masks.astype(float))
    with pytest.raises(ValueError, match=r"\(4, 6\)"):
        do.peak_regions(m[None], masks[:, :3])


def test_crop_boxes_follow_the_centre_crop_and_the_resize():
    # 100 wide, 50 high: the centred 50 x 50 square starts at column 25; resized to 100 x 100
    entry = {"width": 100, "height": 50, "objects": [
        {"label": "dog", "classes": ["boxer"], "box": [10, 0, 40, 50]},   # cut at the left
        {"label": "cat", "classes": ["tabby"], "box": [0, 10, 20, 30]},   # entirely cut off
        {"label": "dog", "classes": ["boxer"], "box": [60, 5, 90, 45]}]}  # cut at the right
    objects = do.crop_boxes(entry, (100, 100))
    assert [o["label"] for o in objects] == ["dog 1", "dog 2"]  # the dogs are numbered
    assert objects[0]["box"] == pytest.approx((0, 0, 30, 100))  # (0, 0, 15, 50) × 2
    assert objects[1]["box"] == pytest.approx((70, 10, 100, 90))  # (35, 5, 50, 45) × 2
    labels, masks = do.object_masks(entry, (10, 20))  # x scales by 20 / 50, y by 10 / 50
    assert masks.shape == (2, 10, 20) and masks[0].sum() == 6 * 10


def test_the_multi_object_photos_are_those_with_two_boxes_or_more():
    boxes = {"a": {"objects": [1]}, "b": {"objects": [1, 2]}, "c": {"objects": [1, 2, 3]}}
    assert do.multi_object_photos(boxes) == ["b", "c"]
    assert do.multi_object_photos(boxes, min_objects=3) == ["c"]
    assert do.multi_object_photos() == ["astronaut", "cat_dog", "collies", "multiple_dogs",
                                        "n02607072_anemone_fish", "n02930766_cab",
                                        "n03787032_mortarboard", "n04552348_warplane"]


def _boxes():
    return {"p": {"width": 8, "height": 8, "objects": [
                 {"label": "cat", "classes": ["tabby"], "box": [0, 0, 4, 4]},
                 {"label": "dog", "classes": ["boxer"], "box": [4, 4, 8, 8]}]},
            "q": {"width": 8, "height": 8, "objects": [
                 {"label": "cat", "classes": ["tabby"], "box": [0, 0, 8, 2]},
                 {"label": "cat", "classes": ["tabby"], "box": [0, 6, 8, 8]},
                 {"label": "dog", "classes": ["boxer"], "box": [2, 2, 6, 6]}]}}


def _maps(rng):
    return {(d, m): rng.uniform(size=(2, 8, 8)) for d in ("first", "last")
            for m in ("gradcam", "layercam")}


def test_object_table_and_its_summaries(assets, rng, tmp_path):
    maps, boxes = _maps(rng), _boxes()
    top1 = np.array([281, 242])  # tabby, boxer
    table = do.object_table("net", ["p", "q"], top1, maps, boxes)
    assert list(table.columns) == ["model", "photo", "class", "depth", "method", "region",
                                   "accepts_class", "area", "share", "peak"]
    assert len(table) == 4 * (3 + 4)  # 4 maps × (2 boxes + outside on p, 3 + outside on q)
    q = table[(table["photo"] == "q") & (table["depth"] == "last")
              & (table["method"] == "gradcam")]
    assert q["region"].tolist() == ["cat 1", "cat 2", "dog", do.OUTSIDE]
    assert q["accepts_class"].tolist() == [False, False, True, False]  # boxer on q
    np.testing.assert_allclose(q["area"], [0.25, 0.25, 0.25, 0.25])
    m = maps["last", "gradcam"][1]
    np.testing.assert_allclose(q["share"], [m[:2].sum() / m.sum(), m[6:].sum() / m.sum(),
                                            m[2:6, 2:6].sum() / m.sum(),
                                            (m[2:6].sum() - m[2:6, 2:6].sum()) / m.sum()])
    peak = np.unravel_index(m.argmax(), m.shape)
    assert q["peak"].sum() == 1 and q[q["peak"]]["region"].item() == (
        "cat 1" if peak[0] < 2 else "cat 2" if peak[0] >= 6 else
        "dog" if 2 <= peak[1] < 6 else do.OUTSIDE)

    summary, shares, peaks = do.save_object_tables(table, tmp_path)
    assert summary.shape == (4, 3 + 5) and (summary["photos"] == 2).all()
    outside = table[table["region"] == do.OUTSIDE].groupby(["depth", "method"])["share"].mean()
    for r in summary.itertuples():
        assert r.in_boxes == pytest.approx(1 - outside[r.depth, r.method])
    assert shares.shape == (3 + 4, 4 + 4)  # rows: regions; columns: model, photo, region,
    assert peaks.shape == (2 * 2, 3 + 2)   # area and the 4 maps; peaks: one column per method
    back = pd.read_csv(tmp_path / "depth_objects.csv")
    np.testing.assert_allclose(back["share"], table["share"], rtol=1e-5)
    assert "2 photos" in (tmp_path / "depth_objects.md").read_text()


def test_peak_table_joins_overlapping_boxes_and_marks_flat_maps(assets):
    boxes = {"p": {"width": 4, "height": 4, "objects": [
        {"label": "a", "classes": [], "box": [0, 0, 3, 3]},
        {"label": "b", "classes": [], "box": [1, 1, 4, 4]}]}}
    peaked = np.zeros((1, 4, 4))
    peaked[0, 2, 2] = 1.0
    maps = {("last", "gradcam"): peaked, ("last", "eigencam"): np.zeros((1, 4, 4))}
    peaks = do.peak_table(do.object_table("net", ["p"], np.array([0]), maps, boxes))
    assert peaks[["gradcam", "eigencam"]].values.tolist() == [["a+b", "none"]]


def test_object_figure_labels_each_box_with_its_share(rng, tmp_path):
    from matplotlib.patches import Rectangle

    maps, boxes = _maps(rng), _boxes()
    images = rng.integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8)
    fig = do.object_figure("net", images, ["p", "q"], ["tabby", "boxer"], maps, boxes,
                           "layercam", tmp_path / "f.png")
    assert (tmp_path / "f.png").is_file()
    ax = fig.axes[1 * 2 + 1]  # photo q, last layer
    _, masks = do.object_masks(boxes["q"], (8, 8))
    share = do.mass_split(maps["last", "layercam"][1:2], masks)[0]
    assert [t.get_text() for t in ax.texts] == [f"{s:.0%}" for s in share[:-1]]
    assert ax.get_xlabel() == f"outside all boxes: {share[-1]:.0%}"
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert [(r.get_x(), r.get_y(), r.get_width(), r.get_height()) for r in rects] == [
        (-0.5, -0.5, 8, 2), (-0.5, 5.5, 8, 2), (1.5, 1.5, 4, 4)]
    assert ax.get_xlim() == (-0.5, 7.5)  # the boxes do not widen the panel


def test_the_figure_marks_the_peak_that_peak_regions_scores(rng):
    """Tied maxima in two corners and the middle: the peak is the middle one (closest to the
    centroid of the ties), as in xai.metrics.pointing_game."""
    m = rng.uniform(0, 0.5, size=(1, 8, 8))
    m[0, 0, 0] = m[0, 7, 7] = m[0, 4, 3] = 1.0
    maps = {("last", "gradcam"): np.concatenate([m, m])}
    images = np.zeros((2, 8, 8, 3), np.uint8)
    fig = do.object_figure("net", images, ["p", "q"], ["a", "b"], maps, _boxes(), "gradcam")
    ax = fig.axes[0]  # photo p: boxes (0..4, 0..4) and (4..8, 4..8); (4, 3) is in neither
    x, y = ax.lines[0].get_data()
    assert (y[0], x[0]) == (4, 3)
    _, masks = do.object_masks(_boxes()["p"], (8, 8))
    assert do.peak_regions(m, masks).tolist() == [[False, False, True]]
