"""Run the Part 1 and Part 2 notebooks headless (papermill, smoke + offline) and check outputs.

The kernel inherits ``os.environ``: KERAS_HOME points at a temporary copy of the offline Keras
cache (ImageNet MobileNet v1 alpha 0.25), so the notebooks need no network.
"""
import ast
import re
import shutil
from pathlib import Path

import nbformat
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
    table = pd.read_csv(part1 / "masked_reclassification.csv")
    assert {"image", "model", "method", "class", "confidence", "masked_class",
            "masked_confidence", "class_kept", "area_kept"} <= set(table.columns)
    assert len(table) == len(SMOKE_IMAGES) * len(METHODS)
    assert set(table["model"]) == {"mobilenet"} and set(table["method"]) == set(METHODS)
    assert table[["confidence", "masked_confidence"]].apply(lambda c: c.between(0, 1)).all().all()
    assert table["area_kept"].between(0, 1).all()
    cats = {"Egyptian_cat", "tabby", "tiger_cat", "lynx"}
    chelsea = table[table["image"] == "chelsea"]
    assert set(chelsea["class"]) <= cats
    # the CAMs found the cat: Grad-CAM's and Grad-CAM++'s masked cat is still a cat (MobileNet
    # moves between tabby and Egyptian cat), and some masked photo keeps its exact class while
    # the mask really removed part of the picture
    assert set(chelsea[chelsea["method"] != "smooth_gradcam++"]["masked_class"]) <= cats
    kept = table[table["class_kept"]]
    assert len(kept) >= 1
    assert (kept["area_kept"] < 0.95).any()
    assert table["class_kept_same_area"].isin([True, False]).all()
    assert (part1 / "masked_reclassification.md").read_text().count("| chelsea") == len(METHODS)


def test_part2_outputs_and_completeness_table(smoke_run):
    part2 = smoke_run / "part2"
    for name in SMOKE_IMAGES:
        for kind in ("direct", "indirect"):
            png = part2 / f"{name}_{kind}.png"
            assert png.is_file() and png.stat().st_size > 10_000, png
    table = pd.read_csv(part2 / "ig_completeness.csv")
    assert list(table["image"]) == list(SMOKE_IMAGES)
    assert {"class", "steps", "logit_x", "logit_baseline", "sum_ig", "gap",
            "relative_gap"} <= set(table.columns)
    assert (table["steps"] == 8).all()  # smoke
    # the table is consistent: gap = Σ IG − (S(x) − S(b))
    diff = table["sum_ig"] - (table["logit_x"] - table["logit_baseline"])
    assert (diff - table["gap"]).abs().max() < 1e-3
    # a black baseline is far from the photo: the class logit must rise a lot from it
    assert (table["logit_x"] - table["logit_baseline"] > 1).all()
    assert table["relative_gap"].notna().all()
