"""xai.studies.mnist1d, notebook 03's study module: the model files, the baseline maps, the
class averages and the headline text against hand computations, and the explained maps and the
headline row on the original study's model against the library's own calls."""
import random

import numpy as np
import pandas as pd
import pytest

import xai
from xai.studies import Study, mnist1d


@pytest.fixture(scope="module")
def signals():
    """Ten real MNIST-1D signals and labels (global random state restored)."""
    mnist1d_data = pytest.importorskip("mnist1d.data")
    args = mnist1d_data.get_dataset_args()
    args.num_samples = 40
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = mnist1d_data.make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return np.asarray(d["x"][:10], np.float32)[..., None], np.asarray(d["y"][:10])


def test_model_files_resolve_from_notebooks_and_assets(tmp_path):
    study = Study("mnist1d", tmp_path, tmp_path / "notebooks", tmp_path / "assets", tmp_path,
                  tmp_path, "offline", True)
    files = mnist1d.model_files(study, "../models/m.keras", None)
    assert list(files) == ["project", "original"]
    assert files["project"] == (tmp_path / "models" / "m.keras").resolve()
    assert files["original"] == tmp_path / "assets" / "seed_models" / "MNIST1D.h5"
    assert mnist1d.model_files(study, "a.keras", "b.h5")["original"] == \
        (tmp_path / "notebooks" / "b.h5").resolve()


def test_load_models_skips_a_missing_file(tmp_path, capsys):
    assert mnist1d.load_models({"project": tmp_path / "missing.keras"}) == {}
    assert "NOTE: the project model is not at" in capsys.readouterr().out


def test_baseline_maps():
    b = mnist1d.baseline_maps((3, 40), seed=5)
    assert b["random"].dtype == b["constant"].dtype == np.float32
    np.testing.assert_array_equal(b["random"],
                                  np.random.default_rng(5).random((3, 40)).astype(np.float32))
    assert (b["constant"] == 1).all() and b["constant"].shape == (3, 40)
    assert not np.array_equal(b["random"], mnist1d.baseline_maps((3, 40), seed=6)["random"])


def test_class_averages_scale_each_map_to_its_maximum():
    maps = np.array([[1.0, 2.0], [0.0, 4.0], [3.0, 3.0], [0.0, 0.0]])
    y = np.array([0, 0, 1, 1])
    means = mnist1d.class_averages(maps, y, np.array([1, 0]))
    # class 1: [1, 1] and the all-zero map [0, 0]; class 0: [0.5, 1] and [0, 1]
    np.testing.assert_allclose(means, [[0.5, 0.5], [0.25, 1.0]])


def test_headline_text_names_the_closer_definition():
    row = {"file": "f", "n_signals": 1000, "drop_percent": 40.0, "increase_percent": 20.0,
           "drop_multiply_percent": 70.0, "increase_multiply_percent": 1.0}
    table = pd.DataFrame([{"model": "project", **row}, {"model": "original", **row}])
    text = mnist1d.headline_text(table)
    assert text.splitlines()[0].endswith("Average Drop 41.1 %, Increase 30.1 %")
    assert " project model, Grad-CAM conv1d_2, 1000 test signals:" in text
    assert "Average Drop 70.0 %, Increase 1.0 %" in text
    # mask: |40 - 41.1| + |20 - 30.1| = 11.2; multiply: 28.9 + 29.1 = 58.0
    assert text.splitlines()[-1] == ("closest to the study's numbers: mode='mask' (sum of the "
                                     "absolute differences in drop and increase: mask 11.2 "
                                     "points, multiply 58.0 points)")
    assert "closest" not in mnist1d.headline_text(table.iloc[:1])


def test_explain_models_maps_and_baselines(mnist1d_seed_model, signals, capsys):
    x, _ = signals
    options = {"gradcam": {"layer": "conv1d_2"}, "integrated_gradients": {"steps": 8}}
    attributions, maps = mnist1d.explain_models({"original": mnist1d_seed_model}, x,
                                                ["gradcam", "integrated_gradients"], options,
                                                "probability", False, seed=0)
    cam = xai.explain(mnist1d_seed_model, x, method="gradcam", layer="conv1d_2",
                      score="probability", progress=False)
    np.testing.assert_array_equal(maps["original"]["gradcam"], cam)
    ig = attributions["original"]["integrated_gradients"]
    assert ig.shape == (10, 40, 1) and (ig < 0).any()  # signed
    np.testing.assert_allclose(maps["original"]["integrated_gradients"], np.abs(ig)[..., 0])
    assert list(maps["original"]) == ["gradcam", "integrated_gradients", "random", "constant"]
    assert "original {'gradcam': (10, 40)" in capsys.readouterr().out


def test_headline_is_the_gradcam_keep30_row_of_the_faithfulness_table(mnist1d_seed_model,
                                                                      signals, tmp_path):
    x, _ = signals
    models = {"original": mnist1d_seed_model}
    files = {"original": tmp_path / "MNIST1D.h5"}
    row = mnist1d.headline(models, files, x, 0.0, False).iloc[0]
    cam = xai.explain(mnist1d_seed_model, x, method="gradcam", layer="conv1d_2",
                      score="probability", progress=False)
    faith = mnist1d.faithfulness(models, x, {"original": {"gradcam": cam}}, [0.3], 0.0)
    table = faith.drop_increase.set_index("method")
    assert row["file"] == "MNIST1D.h5" and row["n_signals"] == 10
    assert row["drop"] == pytest.approx(table.loc["gradcam", "drop"])
    assert row["increase"] == pytest.approx(table.loc["gradcam", "increase"])
    assert row["drop_multiply_percent"] == pytest.approx(
        100 * faith.multiply.set_index("method").loc["gradcam", "drop"])
    assert row["drop_percent"] == pytest.approx(100 * row["drop"])


def test_embedding_figures_one_figure_and_two_rows_per_model(tmp_path):
    """One embedding figure per model; its rows (correct, misclassified) count every signal."""
    import matplotlib.pyplot as plt

    from helpers import conv1d_net

    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 20, 1)).astype(np.float32)
    y = np.arange(30) % 3
    models = {"a": conv1d_net(seed=1), "b": conv1d_net(seed=2)}
    predicted = {n: np.argmax(m.predict(x, verbose=0), -1) for n, m in models.items()}
    table = mnist1d.embedding_figures(models, x, y, predicted, "c2", tmp_path, progress=False)
    plt.close("all")
    assert all((tmp_path / f"{n}_embedding_c2.png").is_file() for n in models)
    assert list(table.columns[:2]) == ["model", "layer"]
    for name in models:
        rows = table[table["model"] == name].set_index("outcome")
        assert rows["n"].sum() == 30
        assert rows.loc["correct", "n"] == (predicted[name] == y).sum()
