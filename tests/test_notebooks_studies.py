"""Run the MNIST-1D and HMT notebooks headless (papermill, smoke) and check what they write.

Both notebooks read the original study's models and the Kather 2016 tiles from the offline asset
folder (``../shared/assets``; the ``assets`` fixture skips when it is missing) and write into a
temporary output folder, never into FinalResults/.
"""
import ast
import re

import nbformat
import numpy as np
import pandas as pd
import pytest

from conftest import ROOT

papermill = pytest.importorskip("papermill")

NOTEBOOKS = ROOT / "notebooks"
MNIST1D = NOTEBOOKS / "03_mnist1d.ipynb"
HMT = NOTEBOOKS / "04_hmt.ipynb"
METHODS = ("gradcam", "gradcam++", "integrated_gradients", "rise", "sise")
EVALUATED = (*METHODS, "random", "constant")  # every method plus the two baseline maps
KEEPS = (0.1, 0.3, 0.5, 0.9)
KATHER_CLASSES = ("tumour", "stroma", "complex", "lympho", "debris", "mucosa", "adipose", "empty")


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def _parameter_names(cell):
    return {t.id for node in ast.walk(ast.parse(cell.source))
            if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}


@pytest.mark.parametrize("path, expected", [
    (MNIST1D, {"model_path", "seed_model_path", "methods", "n_examples", "n_eval", "keeps",
               "smoke", "output_dir"}),
    (HMT, {"data_path", "model_path", "methods", "per_class", "n_masks", "keeps", "smoke",
           "output_dir"}),
], ids=["mnist1d", "hmt"])
def test_notebook_is_thin_and_parameterised(path, expected):
    cells = _code_cells(path)
    assert "parameters" in cells[0].metadata.get("tags", []), "first code cell must be tagged"
    assert expected <= _parameter_names(cells[0])
    for cell in cells:
        assert not re.search(r"^\s*(async\s+)?(def|class)\s", cell.source, re.M), cell.source
        tree = ast.parse(cell.source)
        assert not [n for n in ast.walk(tree)
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                      ast.Lambda))], cell.source
    # papermill injects the parameters right after the first cell: keras/xai come later
    assert not re.search(r"^\s*(import|from)\s+(keras|tensorflow|xai)\b",
                         cells[0].source + cells[1].source, re.M)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, assets):
    """Both notebooks executed once in smoke mode into one temporary output folder."""
    tmp = tmp_path_factory.mktemp("study_notebooks")
    mp = pytest.MonkeyPatch()
    mp.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    mp.setenv("TQDM_DISABLE", "1")
    mp.setenv("XAI_ASSETS", str(assets))
    out = tmp / "FinalResults"
    try:
        papermill.execute_notebook(
            str(MNIST1D), str(tmp / MNIST1D.name),
            parameters={"smoke": True, "output_dir": str(out),
                        "seed_model_path": str(assets / "seed_models" / "MNIST1D.h5")},
            kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False)
        papermill.execute_notebook(
            str(HMT), str(tmp / HMT.name),
            parameters={"smoke": True, "output_dir": str(out),
                        "data_path": str(assets / "kather2016"),
                        "model_path": str(assets / "seed_models" / "HMT.h5")},
            kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False)
    finally:
        mp.undo()
    return out


def _check_drop_increase(table, index_cols):
    assert {"method", "keep", "drop", "increase"} <= set(table.columns)
    assert set(table["method"]) == set(EVALUATED)
    assert sorted(set(table["keep"].round(3))) == list(KEEPS)
    # one row per (model,) method and keep
    assert not table.duplicated([*index_cols, "method", "keep"]).any()
    groups = len(table[index_cols].drop_duplicates()) if index_cols else 1
    assert len(table) == groups * len(EVALUATED) * len(KEEPS)
    assert table["drop"].between(0, 1).all() and table["increase"].between(0, 1).all()
    assert table[["drop", "increase"]].notna().all().all()


def test_mnist1d_outputs(smoke_run):
    out = smoke_run / "mnist1d"
    pngs = ["dataset_glimpse.png", "metrics.png"] + [
        f"{model}_{kind}.png" for model in ("project", "original")
        for kind in ("gradcam_layers", "methods_examples", "class_average_maps")]
    for name in pngs:
        png = out / name
        assert png.is_file() and 5_000 < png.stat().st_size < 1_500_000, png

    accuracy = pd.read_csv(out / "accuracy.csv")
    assert list(accuracy["model"]) == ["project", "original"]
    acc = dict(zip(accuracy["model"], accuracy["test_accuracy"]))
    assert acc["project"] >= 0.95 and 0.85 <= acc["original"] <= 0.9  # 0.980 and 0.877

    table = pd.read_csv(out / "drop_increase.csv")
    _check_drop_increase(table, ["model"])
    assert set(table["model"]) == {"project", "original"}
    assert "keep 30%" in (out / "drop_increase.md").read_text()
    # every score paired with both baselines; its rows are the per-sample table's statistics
    paired = pd.read_csv(out / "paired.csv")
    assert set(paired["method"]) == set(EVALUATED) and set(paired["model"]) == {"project",
                                                                             "original"}
    assert (paired.loc[paired["method"] == "constant", "vs_constant"] == "not tested").all()

    auc = pd.read_csv(out / "deletion_insertion.csv")
    assert len(auc) == 2 * len(EVALUATED)
    assert auc[["deletion_auc", "insertion_auc"]].apply(lambda c: c.between(0, 1)).all().all()
    for model in ("project", "original"):
        a = auc[auc["model"] == model].set_index("method")
        # Grad-CAM points at the samples the model uses: deleting them first hurts far more
        # than deleting samples in a random order (full run: ~0.26-0.29 vs ~0.37-0.40)
        assert a.loc["gradcam", "deletion_auc"] < a.loc["random", "deletion_auc"], a
        assert a.loc["gradcam", "insertion_auc"] > a.loc["random", "insertion_auc"], a

    headline = pd.read_csv(out / "headline_gradcam_keep30.csv")
    assert set(headline["model"]) == {"project", "original"}
    row = headline.set_index("model").loc["original"]
    assert row["layer"] == "conv1d_2" and row["score"] == "probability" and row["keep"] == 0.3
    assert 0 <= row["drop"] <= 1 and 0 <= row["increase"] <= 1
    assert np.isclose(row["drop_percent"], 100 * row["drop"])
    # the headline is the Grad-CAM row of the table (same layer and score by default)
    same = table[(table["model"] == "original") & (table["method"] == "gradcam")
                 & (table["keep"] == 0.3)]
    assert np.isclose(same["drop"].iloc[0], row["drop"])


def test_hmt_outputs(smoke_run):
    out = smoke_run / "hmt"
    for name in ["confusion.png", "metrics.png", *[f"{c}_maps.png" for c in KATHER_CLASSES]]:
        png = out / name
        assert png.is_file() and 5_000 < png.stat().st_size < 1_500_000, png

    acc = pd.read_csv(out / "per_class_accuracy.csv")
    assert list(acc["class"]) == [*KATHER_CLASSES, "all"]
    assert (acc["tiles"].iloc[:-1] == 1).all()  # smoke: one tile per class
    assert acc["accuracy"].between(0, 1).all()
    confusion = pd.read_csv(out / "confusion.csv", index_col=0)
    assert confusion.shape == (8, 8) and confusion.to_numpy().sum() == 8
    assert np.trace(confusion.to_numpy()) == acc.set_index("class").loc["all", "correct"]

    table = pd.read_csv(out / "drop_increase.csv")
    _check_drop_increase(table, [])
    assert (table["n"] == 8).all()
    auc = pd.read_csv(out / "deletion_insertion.csv")
    assert list(auc["method"]) == list(EVALUATED)
    assert auc[["deletion_auc", "insertion_auc"]].apply(lambda c: c.between(0, 1)).all().all()
