"""The per-class tables shared by notebooks 04 and 05 (xai.studies.classes), the HMT study's
functions (xai.studies.hmt) and the chest X-ray study's notebook helpers (xai.studies.xray),
against counts and formulas worked out here independently."""
import matplotlib
import numpy as np
import pandas as pd
import pytest

import xai
from xai.studies import classes, hmt, xray

from helpers import gap_net

matplotlib.use("Agg")


def test_class_accuracy_against_counts():
    y, pred = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2])
    table, confusion = classes.class_accuracy(y, pred, ["a", "b", "c", "d"], unit="tiles",
                                              measure="accuracy", overall="all")
    assert list(table.columns) == ["class", "tiles", "correct", "accuracy"]
    assert list(table["class"]) == ["a", "b", "c", "all"]  # "d" has no tile: no row
    assert list(table["tiles"]) == [2, 1, 3, 6] and list(table["correct"]) == [1, 1, 2, 4]
    np.testing.assert_allclose(table["accuracy"], [1 / 2, 1, 2 / 3, 4 / 6])
    counts = np.zeros((4, 4), int)
    np.add.at(counts, (y, pred), 1)
    np.testing.assert_array_equal(confusion.to_numpy(), counts)  # every class, rows true
    assert list(confusion.columns) == ["a", "b", "c", "d"]


def test_xray_accuracy_is_the_shared_table():
    table, confusion = classes.class_accuracy([0, 1, 1], [1, 1, 0], ("NORMAL", "PNEUMONIA"),
                                              measure="recall", overall="all (accuracy)")
    recall, same = xray.xray_accuracy([0, 1, 1], [1, 1, 0])
    pd.testing.assert_frame_equal(recall, table)
    pd.testing.assert_frame_equal(same, confusion)
    assert list(recall.columns) == ["class", "images", "correct", "recall"]


def test_write_accuracy_and_confusion_figure(tmp_path):
    table, confusion = classes.class_accuracy([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], ["x", "y"])
    classes.write_accuracy(table, confusion, tmp_path, "acc", "Title here")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "acc.csv"), table)
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "confusion.csv", index_col=0),
                                  [[1, 1], [1, 2]])
    md = (tmp_path / "acc.md").read_text()
    assert md.startswith("# Title here\n\n| class") and "## Confusion" in md
    fig = classes.confusion_figure(confusion, "T", unit="tiles", path=tmp_path / "c.png")
    ax = fig.axes[0]
    assert ax.get_title() == "T — accuracy 0.60 (5 tiles)"  # 3 of 5 on the diagonal
    assert [t.get_text() for t in ax.texts] == ["1", "1", "1", "2"]
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_hmt_ready_says_what_is_missing(tmp_path, capsys):
    model = tmp_path / "HMT.h5"
    assert not hmt.ready(tmp_path / "none", model)
    said = capsys.readouterr().out
    assert "no Kather 2016 data" in said and "HMT model is not at" in said
    model.write_bytes(b"")
    assert hmt.ready(tmp_path, model) and capsys.readouterr().out == ""


def test_hmt_explain_maps_and_shown():
    """Metric maps: CAMs as they are, IG as Σ_c |a|; shown: IG over its per-tile 99th
    percentile clipped to [0, 1] (the notebook's formula); the two baselines."""
    model, x = gap_net(size=224, classes=8), np.random.default_rng(1).random((2, 224, 224, 3))
    x = x.astype(np.float32)
    maps, shown = hmt.explain(model, x, ["gradcam", "integrated_gradients"],
                              {"integrated_gradients": {"steps": 4}}, seed=3, progress=False)
    ig = xai.explain(model, x, method="integrated_gradients", steps=4, progress=False)
    summed = np.abs(ig).sum(-1)
    np.testing.assert_allclose(maps["integrated_gradients"], summed, rtol=1e-6)
    expected = np.clip(summed / np.percentile(summed, 99, axis=(1, 2), keepdims=True), 0, 1)
    np.testing.assert_allclose(shown["integrated_gradients"], expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(shown["gradcam"], maps["gradcam"])
    grid = np.random.default_rng(3).random((2, 7, 7)).astype(np.float32)
    np.testing.assert_array_equal(maps["random"], xai.viz.resize(grid, 224))
    assert maps["constant"].shape == (2, 224, 224) and (maps["constant"] == 1).all()


def test_rise_centring_correlations_and_text(tmp_path):
    model, x = gap_net(size=224, classes=8), np.random.default_rng(2).random((4, 224, 224, 3))
    x, y = x.astype(np.float32), np.array([7, 0, 7, 7])  # three "empty" tiles: 0, 2, 3
    options = {"n_masks": 16, "seed": 5, "batch_size": 16, "centre": True}
    own = xai.explain(model, x, method="rise", progress=False, **options)
    result = hmt.rise_centring(model, x, y, own, options, n_show=2, path=tmp_path / "r.png",
                               progress=False)
    assert result["tiles"].tolist() == [0, 2] and result["seed"] == 5
    other = xai.explain(model, x[[0, 2]], method="rise", progress=False,
                        **{**options, "seed": 6})
    assert result["between_tiles"]["centred"][0] == pytest.approx(
        np.corrcoef(own[0].ravel(), own[2].ravel())[0, 1])
    assert result["between_seeds"][1] == pytest.approx(
        np.corrcoef(own[2].ravel(), other[1].ravel())[0, 1])
    assert list(result["between_tiles"]) == ["eq. 6", "centred", "centred, seed 6"]
    text = hmt.rise_centring_text(result).splitlines()
    assert text[0] == "correlation between the RISE maps of the 2 empty tile(s), pairs [(0, 1)]:"
    assert text[2] == f"  centred: {result['between_tiles']['centred'][0]:.2f}"
    assert text[-1].startswith("correlation between seed 5 and seed 6, per empty tile: ")
    assert (tmp_path / "r.png").is_file()


def test_xray_saturation_and_flat_counts():
    p = np.array([0.2, 0.995, 0.9, 0.999, 0.6])
    pred = (p > 0.5).astype(int)
    called = p[p > 0.5]
    assert xray.saturation(p, pred) == (
        "predicted pneumonia: 4 X-rays; p > 0.99 for 50%; "
        f"median p(1 - p) = dp/dz: {np.median(called * (1 - called)):.4f}")
    maps = {("l", "m"): np.stack([np.zeros((3, 3)), np.ones((3, 3)), np.eye(3)])}
    group = ["false positive", "false positive", "true negative"]
    magnitude = xray.map_magnitude(maps, group, n_boot=10)
    flat = xray.flat_counts(magnitude)
    assert list(flat.columns) == ["layer", "method", *xray.XRAY_GROUPS]
    assert flat.iloc[0][list(xray.XRAY_GROUPS)].tolist() == [0, 2, 0, 0]
