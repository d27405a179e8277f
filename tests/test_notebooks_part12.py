"""Run the Part 1 and Part 2 notebooks headless (papermill, smoke + offline) and check outputs.

The kernel inherits ``os.environ``: KERAS_HOME points at a temporary copy of the offline Keras
cache (ImageNet MobileNet v1 alpha 0.25), so the notebooks need no network.
"""
import ast
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]

papermill = pytest.importorskip("papermill")

NOTEBOOKS = ROOT / "notebooks"
PART1 = NOTEBOOKS / "01_part1_cams_across_classifiers.ipynb"
PART2 = NOTEBOOKS / "02_part2_ig_cam_combination.ipynb"
SMOKE_IMAGES = ("chelsea", "coffee")  # the first two default photos
METHODS = ("gradcam", "gradcam++", "smooth_gradcam++")


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", [PART1, PART2], ids=["part1", "part2"])
def test_notebook_is_thin_and_parameterised(path):
    cells = _code_cells(path)
    assert "parameters" in cells[0].metadata.get("tags", []), "first code cell must be tagged"
    names = {t.id for node in ast.walk(ast.parse(cells[0].source))
             if isinstance(node, ast.Assign) for t in node.targets}
    assert {"profile", "smoke", "output_dir", "images", "methods"} <= names
    for cell in cells:
        assert not re.search(r"^\s*(async\s+)?(def|class)\s", cell.source, re.M), cell.source
        tree = ast.parse(cell.source)
        assert not [n for n in ast.walk(tree)
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                      ast.Lambda))], cell.source
    # keras/xai are imported only after the parameters and the KERAS_HOME setup cell
    assert not re.search(r"^\s*(import|from)\s+(keras|tensorflow|xai)\b",
                         cells[0].source + cells[1].source, re.M)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, assets):
    """Both notebooks executed once, smoke + offline, into one temporary output folder."""
    tmp = tmp_path_factory.mktemp("notebooks")
    home = shutil.copytree(assets / "keras_home", tmp / "keras_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("KERAS_HOME", str(home))
    mp.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    mp.setenv("TQDM_DISABLE", "1")
    mp.setenv("XAI_ASSETS", str(assets))
    out = tmp / "FinalResults"
    try:
        for nb in (PART1, PART2):
            papermill.execute_notebook(
                str(nb), str(tmp / nb.name),
                parameters={"profile": "offline", "smoke": True, "output_dir": str(out)},
                kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False)
    finally:
        mp.undo()
    return out


def test_part1_outputs_and_masked_reclassification(smoke_run):
    part1 = smoke_run / "part1"
    for name in SMOKE_IMAGES:
        for kind in ("cams", "masked"):
            png = part1 / f"{name}_{kind}.png"
            assert png.is_file() and png.stat().st_size > 10_000, png
    # the engine's per-sample table, in the output folder: smoke = every 125th of 1000 photos
    samples = part1 / "samples" / "mobilenet"
    assert (samples / "manifest.json").is_file() and list(samples.glob("shard-*.csv.gz"))
    table = pd.read_csv(part1 / "masked_reclassification.csv")
    assert list(zip(table["method"], table["measure"])) == [
        (m, k) for m in METHODS for k in ("kept", "drop")]
    assert (table["setting"] == "mobilenet").all() and (table["n"] == 8).all()
    for column in ("area", "cam", "random", "centre"):
        bounds = (0, 1) if column == "area" else (-1, 1)  # a drop may be negative
        assert table[column].between(*bounds).all(), column
        assert (table[f"{column}_lo"] <= table[column]).all()
        assert (table[column] <= table[f"{column}_hi"]).all()
    kept = table[table["measure"] == "kept"].set_index("method")
    assert kept["area"].between(0.2, 0.95).all()  # the masks really remove part of the photo
    # the CAMs find the evidence: Grad-CAM keeps the class on more of the 8 photos than a
    # random region of the same area
    assert kept.loc["gradcam", "cam"] > kept.loc["gradcam", "random"]
    md = (part1 / "masked_reclassification.md").read_text()
    assert "8 ImageNet photos" in md and "Holm" in md and md.count("| mobilenet") == 6


def test_part2_outputs_and_completeness_table(smoke_run):
    part2 = smoke_run / "part2"
    for name in SMOKE_IMAGES:
        for kind in ("direct", "indirect"):
            png = part2 / f"{name}_{kind}.png"
            assert png.is_file() and png.stat().st_size > 10_000, png
    table = pd.read_csv(part2 / "ig_completeness.csv")
    assert list(table["image"]) == list(SMOKE_IMAGES)
    assert {"class", "steps", "logit_x", "logit_baseline", "gap_within_1_percent"} \
        <= set(table.columns)
    assert (table["steps"] == 8).all()  # smoke
    assert table["gap_within_1_percent"].dtype == bool
    change = table["logit_x"] - table["logit_baseline"]
    # a black baseline is far from the photo: the class logit must rise a lot from it
    assert (change > 1).all()
    # the dataset table (smoke: 8 photos, Grad-CAM): each map's mean is the mean of the
    # committed per-sample rows, and every combination is paired with its CAM and with IG
    import xai.evaluation

    rows = xai.evaluation.load_table(part2 / "samples" / "photos")
    summary = pd.read_csv(part2 / "faithfulness.csv")
    assert set(summary["method"]) == {"cam", "direct", "product", "ig", "ig_x_image", "random",
                                      "constant"}
    means = rows.groupby(["method", "metric"])["value"].mean()
    ig = summary[summary["method"] == "ig"].set_index("metric")["mean"]
    assert np.allclose(ig, means.loc["ig"].loc[ig.index], atol=1e-6)
    direct = summary[summary["method"] == "direct"].set_index("metric")
    assert (direct["n_cam"] == 8).all() and (direct["n_ig"] == 8).all()
