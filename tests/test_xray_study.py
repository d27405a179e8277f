"""The chest X-ray study's numbers (xai.studies, notebook 05) against values worked out by hand
on tiny maps: groups, regions, region statistics with flat maps left out and Holm's correction,
unscaled map magnitude, and the border-covered counts."""
import numpy as np
import pandas as pd
import pytest

from xai import stats, studies

GROUPS = list(studies.XRAY_GROUPS)


def spikes(*points, size=10):
    """A (size, size) map, zero but for value v at (row, col) for each (row, col, v)."""
    m = np.zeros((size, size), np.float32)
    for r, c, v in points:
        m[r, c] = v
    return m


def test_groups_from_labels_and_predictions():
    group = studies.xray_groups([1, 0, 0, 1], [1, 1, 0, 0])
    assert group.tolist() == ["true positive", "false positive", "true negative",
                              "false negative"]
    with pytest.raises(ValueError, match="0/1 arrays"):
        studies.xray_groups([0, 1], [0.2, 0.9])


def test_accuracy_and_confusion_by_hand():
    recall, confusion = studies.xray_accuracy([0, 0, 0, 1, 1], [0, 1, 1, 1, 1])
    r = recall.set_index("class")
    assert r.loc["NORMAL", "correct"] == 1 and r.loc["NORMAL", "recall"] == pytest.approx(1 / 3)
    assert r.loc["PNEUMONIA", "recall"] == 1
    assert r.loc["all (accuracy)", "recall"] == pytest.approx(3 / 5)
    np.testing.assert_array_equal(confusion.to_numpy(), [[1, 2], [0, 2]])


def test_regions_areas():
    regions = studies.xray_regions((10, 10), border=0.1, corner=0.2)
    assert regions["border band"].mean() == pytest.approx(0.36)  # 1 px on each side
    assert regions["corners"].mean() == pytest.approx(4 * 4 / 100)  # four 2 x 2 squares
    assert regions["corners"][0, 0] and regions["corners"][9, 9] and not regions["corners"][0, 2]
    assert regions["centre"].mean() == pytest.approx(0.25) and regions["centre"][5, 5]


def region_case():
    """FP: two maps peaking in the top-left corner and one empty map; TN: three central maps;
    TP: one corner map; FN: only an empty map."""
    maps = np.stack([
        spikes((0, 0, 1)),                 # FP: all mass in the corner
        spikes((0, 0, 1), (5, 5, 0.5)),    # FP: 2/3 in the corner, peak in the corner
        spikes(),                          # FP: empty (flat)
        spikes((5, 5, 1)),                 # TN: all mass in the centre
        spikes((0, 0, 1), (5, 5, 2)),      # TN: 1/3 in the corner, peak in the centre
        spikes((0, 0, 1), (5, 5, 3)),      # TN: 1/4 in the corner, peak in the centre
        spikes((0, 0, 1)),                 # TP
        spikes(),                          # FN: empty
    ])
    group = np.array(["false positive"] * 3 + ["true negative"] * 3
                     + ["true positive", "false negative"])
    return maps, group


def test_region_statistics_by_hand():
    maps, group = region_case()
    regions = studies.xray_regions((10, 10))
    table = studies.region_statistics({("l", "m"): maps}, group, regions)
    t = table.set_index(["region", "measure"])
    assert list(table.columns) == ["layer", "method", "region", "measure", "area", *GROUPS,
                                   "FP vs TN p", "FP vs TN p (Holm)"]
    # the empty FP map is left out: the border share is the mean over the two other maps
    for region in ("border band", "corners"):
        assert t.loc[(region, "mass share"), "false positive"] == pytest.approx(5 / 6)
        assert t.loc[(region, "mass share"), "true negative"] == pytest.approx(7 / 36)
        assert t.loc[(region, "peak inside"), "false positive"] == 1  # not 2/3
        assert t.loc[(region, "peak inside"), "true negative"] == 0
    assert t.loc[("centre", "mass share"), "false positive"] == pytest.approx(1 / 6)
    assert t.loc[("centre", "peak inside"), "true negative"] == 1
    assert t.loc[("border band", "peak inside"), "true positive"] == 1
    assert t[["false negative"]].isna().all().all()  # no map with a peak or mass
    # two-sided tests on 2 FP vs 3 TN maps, completely separated. Mann-Whitney, exact:
    # p = 2 / C(5, 2) = 0.2. Fisher on [[2, 0], [0, 3]]: the hypergeometric tables have
    # P(a = 0, 1, 2) = 3/10, 6/10, 1/10, and only a = 2 is as unlikely: p = 0.1
    p = t["FP vs TN p"]
    assert p.xs("mass share", level="measure").to_numpy() == pytest.approx([0.2] * 3)
    assert p.xs("peak inside", level="measure").to_numpy() == pytest.approx([0.1] * 3)
    # Holm over the 6 tests: 6 x 0.1 = 0.6 for the smallest, the running maximum after it
    assert t["FP vs TN p (Holm)"].to_numpy() == pytest.approx([0.6] * 6)


def test_region_statistics_holm_spans_every_layer_and_method():
    maps, group = region_case()
    regions = studies.xray_regions((10, 10))
    noise = np.random.default_rng(0).uniform(0.1, 1, maps.shape).astype(np.float32)
    table = studies.region_statistics({("a", "m"): maps, ("b", "m"): noise}, group, regions)
    assert len(table) == 2 * 3 * 2
    np.testing.assert_allclose(table["FP vs TN p (Holm)"], stats.holm(table["FP vs TN p"]))
    assert (table["FP vs TN p (Holm)"] >= table["FP vs TN p"]).all()
    # scale-free: unscaled maps (x 7) give the same table
    scaled = studies.region_statistics({("a", "m"): 7 * maps, ("b", "m"): 7 * noise}, group,
                                       regions)
    pd.testing.assert_frame_equal(table, scaled)


def test_region_statistics_refuses_mismatched_input():
    maps, group = region_case()
    regions = studies.xray_regions((10, 10))
    with pytest.raises(ValueError, match="one map per entry"):
        studies.region_statistics({("l", "m"): maps[:5]}, group, regions)
    with pytest.raises(ValueError, match="compare must be two of"):
        studies.region_statistics({("l", "m"): maps}, group, regions, compare=("FP", "TN"))


def test_map_magnitude_by_hand():
    maps = np.stack([spikes((0, 0, 4)), spikes((1, 1, 2), (2, 2, 2)), spikes(),
                     np.full((10, 10), 3, np.float32), spikes((3, 3, 1))])
    group = ["true positive", "true positive", "false positive", "false positive",
             "true negative"]
    t = studies.map_magnitude({("l", "m"): maps}, group).set_index("group")
    assert t.loc["true positive", "maps"] == 2 and t.loc["true positive", "flat"] == 0
    assert t.loc["true positive", "max"] == pytest.approx(3)  # (4 + 2) / 2
    assert t.loc["true positive", "mean"] == pytest.approx((0.04 + 0.04) / 2)
    # a zero map and a constant map: both flat, one empty
    assert (t.loc["false positive", ["flat", "empty"]] == [2, 1]).all()
    assert t.loc["false positive", "max"] == pytest.approx(1.5)
    assert t.loc["true negative", ["max", "max lo", "max hi"]].tolist() == [1, 1, 1]  # n = 1
    assert t.loc["false negative", "maps"] == 0 and np.isnan(t.loc["false negative", "max"])
    lo, hi = t.loc["true positive", ["max lo", "max hi"]]
    assert 2 <= lo <= 3 <= hi <= 4


def test_cover_sets_the_region_to_each_image_mean():
    x = np.stack([np.arange(16.0).reshape(4, 4, 1), np.ones((4, 4, 1))])
    region = np.zeros((4, 4), bool)
    region[0] = True
    covered = studies.cover(x, region)
    np.testing.assert_array_equal(covered[0, 0, :, 0], [7.5] * 4)
    np.testing.assert_array_equal(covered[0, 1:], x[0, 1:])
    np.testing.assert_array_equal(covered[1], x[1])


def test_cover_check_counts_by_hand():
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.9, 0.2, 0.6, 0.8, 0.7])        # FP, TN, FP, TP, TP
    p_cov = np.array([0.4, 0.7, 0.6, 0.3, 0.9])    # TN, FP, FP, FN, TP
    t = studies.cover_check(y, p, p_cov).set_index("input")
    assert t.loc["as is", "false positives"] == 2 and t.loc["as is", "changed"] == 0
    c = t.loc["border band covered"]
    assert (c["images"], c["changed"], c["to pneumonia"], c["to normal"]) == (5, 3, 1, 2)
    assert (c["false positives"], c["false negatives"]) == (2, 1)
    assert c["accuracy"] == pytest.approx(2 / 5) and t.loc["as is", "accuracy"] == 0.6
    assert c["normal recall"] == pytest.approx(1 / 3) and c["pneumonia recall"] == 0.5
    assert c["mean P(pneumonia)"] == pytest.approx(0.58)
    with pytest.raises(ValueError, match="one entry per X-ray"):
        studies.cover_check(y, p, p_cov[:4])


def test_feature_map_figures_show_the_most_confident_true_negative_and_positive(tmp_path):
    """The normal X-ray shown is the true negative of lowest P(pneumonia), the pneumonia one the
    true positive of highest, whatever the false positives' probabilities."""
    import matplotlib.pyplot as plt

    from xai.studies import xray

    from helpers import gap_net

    net = gap_net(seed=1, size=12, classes=1, head="sigmoid")
    x = np.random.default_rng(0).random((6, 12, 12, 3)).astype(np.float32)
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.3, 0.1, 0.8, 0.95, 0.99, 0.2])  # sample 4: a more confident false positive
    group = studies.xray_groups(y, (p > 0.5).astype(int))
    shown = xray.feature_map_figures(net, x, p, group, ["conv_a", "conv_b"], 3, tmp_path)
    plt.close("all")
    assert shown == {"normal": 1, "pneumonia": 3}
    assert (tmp_path / "feature_maps_normal.png").is_file()
    assert (tmp_path / "feature_maps_pneumonia.png").is_file()
