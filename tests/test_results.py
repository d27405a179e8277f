"""The committed results are the code's: executed notebooks match their sources, are tidy, and
carry the numbers that FinalResults/ and the README show.

nbval (``make test``, second step) re-executes ``FinalResults/notebooks/*.ipynb`` and compares
every cell marked ``# NBVAL_CHECK_OUTPUT``, so these tests make sure that what nbval checks is
(1) the current notebook code and (2) the same numbers as the committed tables.
"""
import importlib.util
import re

import nbformat
import pandas as pd
import pytest

from conftest import ROOT

SOURCES = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
EXECUTED = ROOT / "FinalResults" / "notebooks"
CHECK = "# NBVAL_CHECK_OUTPUT"

_spec = importlib.util.spec_from_file_location("tidy_notebook", ROOT / "tools" / "tidy_notebook.py")
tidy_notebook = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tidy_notebook)


_spec = importlib.util.spec_from_file_location("colab_cell", ROOT / "tools" / "colab_cell.py")
colab_cell = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(colab_cell)


def _read(path):
    return nbformat.read(path, as_version=4)


def _checked(cell) -> bool:
    """nbval's own rule: a comment line that is exactly the marker (no text after it)."""
    return cell.cell_type == "code" and any(
        line.strip().lstrip("#").strip() == "NBVAL_CHECK_OUTPUT"
        for line in cell.source.splitlines())


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def test_every_notebook_has_its_executed_result():
    assert SOURCES
    assert sorted(p.name for p in EXECUTED.glob("*.ipynb")) == [p.name for p in SOURCES], \
        "run `make run-all` and commit FinalResults/notebooks/"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_source_notebook_has_no_outputs(source):
    for cell in _read(source).cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, \
                f"{source.name}: clear the outputs of the source notebook (results live in " \
                f"{EXECUTED.relative_to(ROOT)})"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_executed_notebook_is_the_current_code(source):
    """Same cells, in order, as the source; papermill added only the injected parameters."""
    executed = _read(EXECUTED / source.name)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and injected[0].get("id") == "injected-parameters"
    assert re.fullmatch(r"# Parameters\nprofile = \"(offline|online)\"\n?", injected[0].source), \
        "only the profile may be injected: no absolute paths or machine-specific values"
    cells = [c for c in executed.cells if c is not injected[0]]
    expected = _read(source).cells
    sources = [(c.cell_type, c.source) for c in expected]
    assert [(c.cell_type, c.source) for c in cells] == sources, \
        f"{source.name} changed since its results were made: run `make run-all` and commit"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_executed_notebook_is_tidy_and_checked(source):
    executed = _read(EXECUTED / source.name)
    text = (EXECUTED / source.name).read_text()
    assert not [p for p in tidy_notebook.machine_paths() if p in text]
    assert set(executed.metadata.get("papermill", {})) <= set(tidy_notebook.KEEP_PAPERMILL)
    checked = []
    for cell in executed.cells:
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.get("name") == "stderr"]
        assert not any(o.get("output_type") == "error" for o in cell.outputs)
        if _checked(cell):
            checked.append(cell)
        else:
            assert "NBVAL_CHECK_OUTPUT" not in cell.source, \
                f"nbval ignores a marker with text on its line: put {CHECK} alone on a line"
    assert checked, f"{source.name}: mark the cells that print key numbers with {CHECK}"
    for cell in checked:
        assert _stdout(cell).strip(), f"a checked cell printed nothing:\n{cell.source}"


def _checked_output(name: str) -> str:
    nb = _read(EXECUTED / name)
    return "\n".join(_stdout(c) for c in nb.cells if _checked(c))


def test_mnist1d_headline_matches_table_and_readme():
    """The checked notebook output, the committed CSV and the README tell the same numbers."""
    headline = pd.read_csv(ROOT / "FinalResults" / "mnist1d" / "headline_gradcam_keep30.csv")
    shown = _checked_output("03_mnist1d.ipynb")
    readme = (ROOT / "README.md").read_text()
    for _, row in headline.iterrows():
        for column in ("drop_percent", "increase_percent", "drop_multiply_percent",
                       "increase_multiply_percent"):
            number = f"{row[column]:.1f} %"
            assert number in shown, (column, number)
        if row["model"] == "original":
            for column in ("drop_percent", "increase_percent", "drop_multiply_percent",
                           "increase_multiply_percent"):
                assert f"{row[column]:.1f} %" in readme, \
                    f"README: the headline {column} is not {row[column]:.1f} % as in the table"


@pytest.mark.parametrize("name, table, columns", [
    ("03_mnist1d.ipynb", "mnist1d/accuracy.csv", ["test_accuracy"]),
    ("03_mnist1d.ipynb", "mnist1d/deletion_insertion.csv", ["deletion_auc", "insertion_auc"]),
    ("04_hmt.ipynb", "hmt/deletion_insertion.csv", ["deletion_auc", "insertion_auc"]),
    ("04_hmt.ipynb", "hmt/per_class_accuracy.csv", ["accuracy"]),
    ("01_part1_cams_across_classifiers.ipynb", "part1/masked_reclassification.csv",
     ["area", "cam", "cam_lo", "cam_hi", "random", "centre", "d_random", "d_random_lo",
      "d_random_hi", "d_centre", "d_centre_lo", "d_centre_hi"]),
    ("05_chest_xray.ipynb", "xray/accuracy.csv", ["recall"]),
    ("05_chest_xray.ipynb", "xray/region_share.csv",
     ["false positive", "true negative", "FP vs TN p", "FP vs TN p (Holm)"]),
    ("05_chest_xray.ipynb", "xray/border_covered.csv", ["accuracy", "normal recall"]),
    ("07_class_specific.ipynb", "class_specific/separation.csv", ["IoU cat vs dog"]),
    ("08_evaluation.ipynb", "evaluation/sanity_last_step.csv", ["spearman_abs"]),
], ids=lambda v: str(v).split("/")[-1] if isinstance(v, str) else None)
def test_checked_numbers_are_the_committed_tables(name, table, columns):
    frame = pd.read_csv(ROOT / "FinalResults" / table)
    shown = _checked_output(name)
    for column in columns:
        for value in frame[column]:
            assert f"{value:.3f}" in shown, (table, column, value)


def test_part1_prose_numbers_are_the_checked_table():
    """The three-decimal numbers of notebook 01's prose and of the README's Part 1 masked
    re-classification paragraph are printed by the notebook's checked cell."""
    shown = _checked_output("01_part1_cams_across_classifiers.ipynb")
    notebook = _read(ROOT / "notebooks" / "01_part1_cams_across_classifiers.ipynb")
    prose = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    readme = [p for p in (ROOT / "README.md").read_text().split("\n\n")
              if "part1/masked_reclassification" in p]
    assert readme, "README: the Part 1 masked re-classification paragraph names its table"
    numbers = re.findall(r"(?<![\d.])-?\d\.\d{3}(?![\d])", "\n".join(prose + readme))
    assert len(numbers) > 10
    missing = sorted({n for n in numbers if n not in shown})
    assert not missing, f"not in notebook 01's checked output: {missing}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_colab_cell_is_the_one_in_tools(source):
    """The Colab cell has one home, tools/colab_cell.py; run it to update every notebook."""
    assert colab_cell.colab_cell(_read(source)).source == colab_cell.COLAB_CELL, (
        f"{source.name}: its Colab cell differs from tools/colab_cell.py; run "
        "`python tools/colab_cell.py` (and make run-all)")


def test_xray_numbers_are_the_committed_tables():
    """05's checked output prints every unscaled magnitude with its interval, and its prose and
    the README cite the border-covered counts of border_covered.csv."""
    shown = _checked_output("05_chest_xray.ipynb")
    magnitude = pd.read_csv(ROOT / "FinalResults" / "xray" / "map_magnitude.csv")
    for _, row in magnitude[magnitude["maps"] > 0].iterrows():
        for column in ("max", "max lo", "max hi", "mean", "mean lo", "mean hi"):
            assert f"{row[column]:.3g}" in shown, (row["layer"], row["method"], row["group"],
                                                   column)
    cover = pd.read_csv(ROOT / "FinalResults" / "xray" / "border_covered.csv").set_index("input")
    before, after = cover.loc["as is"], cover.loc["border band covered"]
    count = {k: (int(before[k]), int(after[k])) for k in ("images", "changed", "false positives")}
    cited = [f"{count['changed'][1]} of {count['images'][1]}",
             "{} → {}".format(*count["false positives"]),
             f"{before['accuracy']:.3f} → {after['accuracy']:.3f}"]
    prose = "\n".join(c.source for c in _read(ROOT / "notebooks" / "05_chest_xray.ipynb").cells
                      if c.cell_type == "markdown")
    readme = (ROOT / "README.md").read_text()
    for number in cited:
        assert number in prose, f"05's prose does not cite {number!r} from border_covered.csv"
    for number in cited[:2]:
        assert number in readme, f"README does not cite {number!r} from border_covered.csv"


def test_evaluation_summary_is_the_checked_output():
    """Every mean [interval] of 08's summary table is printed in its nbval-checked output."""
    summary = pd.read_csv(ROOT / "FinalResults" / "evaluation" / "evaluation.csv")
    shown = _checked_output("08_evaluation.ipynb")
    for _, row in summary.iterrows():
        cell = f"{row['mean']:.3f} [{row['lo']:.3f}, {row['hi']:.3f}]"
        assert cell in shown, (row["setting"], row["method"], row["metric"], cell)


def _depth_claims() -> dict:
    """The depth study's prose: the notebook's last Markdown cell and the README's paragraph."""
    prose = [c.source for c in _read(ROOT / "notebooks" / "06_layers_depth.ipynb").cells
             if c.cell_type == "markdown"][-1]
    readme = (ROOT / "README.md").read_text()
    start = readme.index("CAMs across depth (")
    return {"notebook": prose, "README": readme[start:readme.index("\n\n", start)]}


def test_depth_summary_is_the_checked_output():
    """Every mean [interval] of 06's summary is printed in its nbval-checked output, and every
    number its prose and the README cite (0.xyz, n = ...) is printed there too."""
    summary = pd.read_csv(ROOT / "FinalResults" / "depth" / "depth_faithfulness.csv")
    shown = _checked_output("06_layers_depth.ipynb")
    for _, row in summary.iterrows():
        cell = f"{row['mean']:.3f} [{row['lo']:.3f}, {row['hi']:.3f}]"
        assert cell in shown, (row["depth"], row["method"], row["metric"], cell)
    printed = set(re.findall(r"\d+(?:\.\d+)?", shown))
    for where, text in _depth_claims().items():
        counts = re.findall(r"(?<![\d.])(\d{2,})(?: [\w-]+){,2} photos", text)  # "241 photos"
        cited = re.findall(r"\d+\.\d{3}", text) + counts
        assert cited, f"{where}: the depth prose cites no number"
        assert not set(cited) - printed, f"{where} cites unprinted numbers {set(cited) - printed}"


def _last_markdown(name: str) -> str:
    return [c.source for c in _read(ROOT / "notebooks" / name).cells
            if c.cell_type == "markdown" and "Reading the table" in c.source][-1]


@pytest.mark.parametrize("name, table", [
    ("07_class_specific.ipynb", "class_specific/imagenet_separation.csv"),
    ("02_part2_ig_cam_combination.ipynb", "part2/faithfulness.csv"),
], ids=["class_specific", "part2"])
def test_dataset_prose_numbers_are_the_checked_output(name, table):
    """Every mean [interval] of the dataset summary is printed in the notebook's nbval-checked
    output, and every number its "Reading the table" prose cites (0.xyz, n photos) is printed
    there too: the prose follows the table."""
    summary = pd.read_csv(ROOT / "FinalResults" / table)
    shown = _checked_output(name)
    for _, row in summary.iterrows():
        cell = f"{row['mean']:.3f} [{row['lo']:.3f}, {row['hi']:.3f}]"
        assert cell in shown, (row.iloc[0], row["method"], row["metric"], cell)
    printed = set(re.findall(r"\d+(?:\.\d+)?", shown))
    text = _last_markdown(name)
    counts = re.findall(r"(?<![\d.])(\d{2,})(?: [\w-]+){,2} photos", text)  # "241 photos"
    cited = re.findall(r"\d+\.\d{3}", text) + counts
    assert cited, f"{name}: the dataset prose cites no number"
    assert not set(cited) - printed, f"{name} cites unprinted numbers {set(cited) - printed}"
