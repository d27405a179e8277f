"""Run the chest X-ray (05), depth (06) and class-specific (07) notebooks headless in smoke
mode (papermill, offline assets) and check what they write against independent computations."""
import ast

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from test_notebooks_studies import _code_cells, _parameter_names

from conftest import ROOT

papermill = pytest.importorskip("papermill")

NOTEBOOKS = ROOT / "notebooks"
XRAY = NOTEBOOKS / "05_chest_xray.ipynb"
DEPTH = NOTEBOOKS / "06_layers_depth.ipynb"
CLASS = NOTEBOOKS / "07_class_specific.ipynb"
EVALUATION = NOTEBOOKS / "08_evaluation.ipynb"


@pytest.mark.parametrize("path, expected", [
    (XRAY, {"data_path", "model_path", "train_path", "methods", "layer", "border", "smoke",
            "output_dir", "profile"}),
    (DEPTH, {"models", "show", "smoke", "output_dir", "profile"}),
    (CLASS, {"model", "image_path", "methods", "top_fraction", "smoke", "output_dir", "profile"}),
    (EVALUATION, {"settings", "sanity_images", "sanity_layers", "smoke", "output_dir",
                  "profile"}),
], ids=["xray", "depth", "class", "evaluation"])
def test_notebook_is_thin_and_parameterised(path, expected):
    cells = _code_cells(path)
    assert "parameters" in cells[0].metadata.get("tags", [])
    assert expected <= _parameter_names(cells[0])
    for cell in cells:
        tree = ast.parse(cell.source)
        assert not [n for n in ast.walk(tree)
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                      ast.Lambda))], cell.source


def _run(path, tmp, assets, **parameters):
    mp = pytest.MonkeyPatch()
    for key, value in {"TF_CPP_MIN_LOG_LEVEL": "3", "TQDM_DISABLE": "1", "XAI_HEADLESS": "1",
                       "XAI_ASSETS": str(assets)}.items():
        mp.setenv(key, value)
    try:
        papermill.execute_notebook(str(path), str(tmp / path.name),
                                   parameters={"smoke": True, "output_dir": str(tmp / "out"),
                                               "profile": "offline", **parameters},
                                   kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False)
    finally:
        mp.undo()
    return tmp / "out"


def test_xray_accuracy_is_an_independent_count(tmp_path, assets):
    import xai

    out = _run(XRAY, tmp_path, assets) / "xray"
    # smoke: the first 8 files of each class, read and resized here with PIL (nearest), as
    # Keras' flow_from_directory does, and classified by the model loaded here
    folder = assets / "chest_xray" / "kermany_test"
    model = keras.models.load_model(assets / "xray_models" / "pneumonia_cnn_am1codes.h5",
                                    compile=False)
    files = [f for cls in ("NORMAL", "PNEUMONIA")
             for f in sorted(folder.glob(f"{cls}/*.jpeg"))[:8]]
    x = np.stack([np.asarray(Image.open(f).convert("RGB").resize((150, 150), Image.NEAREST))
                  for f in files]).astype(np.float32) / 255
    y = np.repeat([0, 1], 8)
    pred = (model.predict(x, verbose=0)[:, 0] > 0.5).astype(int)
    acc = pd.read_csv(out / "accuracy.csv").set_index("class")
    assert acc.loc["NORMAL", "correct"] == (pred[y == 0] == 0).sum()
    assert acc.loc["PNEUMONIA", "correct"] == (pred[y == 1] == 1).sum()
    assert acc.loc["all (accuracy)", "recall"] == pytest.approx((pred == y).mean())
    np.testing.assert_array_equal(pd.read_csv(out / "confusion.csv", index_col=0).to_numpy(),
                                  [np.bincount(pred[y == c], minlength=2) for c in (0, 1)])

    regions = pd.read_csv(out / "region_share.csv")
    area = regions.groupby("region")["area"].first()
    assert area["border band"] == pytest.approx(1 - (120 / 150) ** 2)  # 15 px on each side
    assert area["corners"] == pytest.approx(4 * 30 ** 2 / 150 ** 2)
    assert area["centre"] == pytest.approx(0.25, abs=0.01)
    groups = ["true positive", "false positive", "true negative", "false negative"]
    values = regions[groups].to_numpy()
    assert np.nanmin(values) >= 0 and np.nanmax(values) <= 1
    assert set(regions["measure"]) == {"mass share", "peak inside"}
    # Holm (1979) by hand over the 36 tests: k-th smallest p times (36 - k + 1), running max
    assert len(regions) == 36
    raw = regions["FP vs TN p"].to_numpy()
    order = np.argsort(raw, kind="stable")
    adjusted = np.minimum(1, np.maximum.accumulate((36 - np.arange(36)) * raw[order]))
    np.testing.assert_allclose(regions["FP vs TN p (Holm)"].to_numpy()[order], adjusted)

    # flat maps and unscaled magnitude: the group sizes counted here, and the maps recomputed
    is_group = {"true positive": (y == 1) & (pred == 1), "false positive": (y == 0) & (pred == 1),
                "true negative": (y == 0) & (pred == 0), "false negative": (y == 1) & (pred == 0)}
    magnitude = pd.read_csv(out / "map_magnitude.csv")
    assert len(magnitude) == 2 * 3 * 4  # layers x methods x groups
    for (layer, method), t in magnitude.groupby(["layer", "method"]):
        raw_maps = xai.explain(model, x, method=method, layer=layer, target=1, normalize=False,
                               progress=False).reshape(len(x), -1)
        for _, row in t.iterrows():
            pick = is_group[row["group"]]
            assert row["maps"] == pick.sum()
            assert row["flat"] == (raw_maps[pick].max(1) == raw_maps[pick].min(1)).sum()
            if pick.any():
                assert row["max"] == pytest.approx(raw_maps[pick].max(1).mean(), rel=1e-5)
                assert row["max lo"] <= row["max"] <= row["max hi"]

    # the border-covered check, recomputed here: 15 px on each side set to each X-ray's mean
    covered = x.copy()
    grey = x.mean(axis=(1, 2, 3), keepdims=True)
    for band in (np.s_[:, :15], np.s_[:, -15:], np.s_[:, :, :15], np.s_[:, :, -15:]):
        covered[band] = np.broadcast_to(grey, covered[band].shape)
    pred_cov = (model.predict(covered, verbose=0)[:, 0] > 0.5).astype(int)
    cover = pd.read_csv(out / "border_covered.csv").set_index("input")
    assert cover.loc["as is", "accuracy"] == pytest.approx((pred == y).mean())
    row = cover.loc["border band covered"]
    assert row["changed"] == (pred_cov != pred).sum()
    assert row["to pneumonia"] == ((pred_cov == 1) & (pred == 0)).sum()
    assert row["false positives"] == ((pred_cov == 1) & (y == 0)).sum()
    assert row["accuracy"] == pytest.approx((pred_cov == y).mean())
    for name in ("false_positives.png", "true_positives.png", "region_share.png",
                 "map_magnitude.png"):
        assert (out / name).stat().st_size > 5_000


def test_depth_summary_is_the_per_sample_table(tmp_path, assets):
    """Smoke run of 06: per layer, each mean is the mean of the engine's rows of that map
    (labels split here, not by the notebook's helper), the baselines are under every layer,
    and each label ran at the layer xai.models.depth_layers names."""
    import json

    import xai.evaluation
    import xai.studies
    from xai import models

    out = _run(DEPTH, tmp_path, assets)
    folder = xai.studies.samples_dir(out, "depth", "mobilenet")
    rows = xai.evaluation.load_table(folder)
    assert rows["sample"].nunique() == 8  # smoke: every 125th of the 1000 photos
    layers = models.depth_layers("mobilenet")
    ran = json.loads((folder / "manifest.json").read_text())["settings"]["methods"]
    assert {label: spec["options"]["layer"] for label, spec in ran.items()} == {
        f"{m}@{d}": layer for d, layer in layers.items() for m in ("gradcam", "gradcam++")}

    summary = pd.read_csv(out / "depth" / "depth_faithfulness.csv")
    assert list(summary["depth"].unique()) == ["first", "middle", "last"]
    assert all(list(t["method"].unique()) == ["gradcam", "gradcam++", "random", "constant"]
               for _, t in summary.groupby("depth"))
    means = rows.groupby(["method", "metric"])["value"].mean()
    for r in summary.itertuples():
        label = r.method if r.method in ("random", "constant") else f"{r.method}@{r.depth}"
        assert r.mean == pytest.approx(means[label, r.metric], abs=1e-6), (label, r.metric)
    # the baselines' rows are the same under every layer, so are their statistics
    base = summary[summary["method"] == "random"].set_index(["depth", "metric"])
    assert (base["d_constant"].unstack(0).nunique(axis=1) == 1).all()

    ranks = pd.read_csv(out / "depth" / "depth_ranks.csv")
    for _, t in ranks.groupby(["depth", "metric"]):
        assert sorted(t["method"]) == ["constant", "gradcam", "gradcam++", "random"]
        assert (t["tied"] == t["rank"].duplicated(keep=False)).all()
    overall = pd.read_csv(out / "depth" / "depth_ranks_overall.csv")
    assert set(overall["method"]) == {*ran, "random", "constant"}
    for name in ("mobilenet_chelsea.png", "mobilenet_faithfulness.png"):
        assert (out / "depth" / name).stat().st_size > 5_000


def test_cat_and_dog_maps_are_separate(tmp_path, assets):
    out = _run(CLASS, tmp_path, assets) / "class_specific"
    table = pd.read_csv(out / "separation.csv").set_index("method")
    assert list(table.index) == ["gradcam", "gradcam++"]
    # the bulldog stands in the upper half, the tabby lies in the lower half
    assert (table["peak distance cat vs dog"] > 0.2).all(), table
    assert (table["IoU cat vs dog"] < 0.3).all(), table
    assert (out / "cat_dog_maps.png").stat().st_size > 5_000
    # the dataset section (smoke: every 125th ImageNet photo, Grad-CAM and Score-CAM), with
    # its references: the class-agnostic map overlaps itself, Score-CAM has no counterfactual
    summary = pd.read_csv(out / "imagenet_separation.csv")
    assert set(summary["method"]) == {"gradcam", "scorecam", "random", "constant"}
    cell = summary.set_index(["photos", "method", "metric"])
    assert cell.loc[("all", "constant", "top2_iou"), "mean"] == 1
    assert cell.loc[("all", "gradcam", "top2_iou"), "n"] == 8
    assert ("all", "scorecam", "counterfactual_empty") not in cell.index


def test_evaluation_table(tmp_path, assets):
    """Smoke run of 08: the summary is the statistics of the per-sample table it wrote, the
    baselines are in every setting, and a good map beats random where the model learned."""
    import xai.evaluation
    import xai.studies

    out = _run(EVALUATION, tmp_path, assets) / "evaluation"
    summary = pd.read_csv(out / "evaluation.csv")
    settings = ["photos", "photos with boxes", "mnist1d original", "mnist1d ours", "hmt", "xray"]
    assert list(summary["setting"].unique()) == settings
    # smoke: three older methods and two newer ones (their own run), the baselines last
    methods = ["gradcam", "saliency", "rise", "finercam", "reciprocam", "random", "constant"]
    assert all(list(t["method"].unique()) == methods
               for _, t in summary.groupby("setting", sort=False))
    # each mean is the mean of the committed per-sample rows of that setting (both runs)
    for setting in settings:
        rows = pd.concat([xai.evaluation.load_table(xai.studies.samples_dir(
            out.parent, "evaluation", folder)) for folder in (setting, f"{setting} newer")])
        means = rows.groupby(["method", "metric"])["value"].mean()
        s = summary[summary["setting"] == setting].set_index(["method", "metric"])["mean"]
        assert np.allclose(s, means.loc[s.index], atol=1e-6), setting
    t = summary.set_index(["setting", "method", "metric"])
    assert t.xs("random", level="method")["vs_random"].eq("not tested").all()
    # a good map beats random on a model that learned its task (MNIST-1D ours, 0.98 accuracy)
    ours = t.loc["mnist1d ours"]
    assert ours.loc[("gradcam", "insertion"), "mean"] > ours.loc[("random", "insertion"), "mean"]
    assert ours.loc[("gradcam", "deletion"), "mean"] < ours.loc[("random", "deletion"), "mean"]
    # a constant map has no peak: never a pointing-game hit, and MuFidelity 0 (equal cells)
    assert t.loc[("photos with boxes", "constant", "pointing_game"), "mean"] == 0
    assert t.loc[("xray", "constant", "mufidelity"), "mean"] == 0
    # cost: RISE runs one forward pass per mask and no backward pass (smoke: 16 masks)
    rise = t.xs("rise", level="method").groupby("setting")[["forward", "backward"]].first()
    assert (rise == [16, 0]).all().all()
    sanity = pd.read_csv(out / "sanity_last_step.csv").set_index("method")
    assert sanity.loc["gradcam", "spearman_abs"] < 0.5 and not sanity.loc["gradcam", "fails"]
    assert (out / "ranks.png").is_file() and (out / "sanity.png").is_file()
