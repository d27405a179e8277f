"""Every notebook is calls and prose: no definitions, code cells of at most ~12 lines, and no loop
that computes (loops may only arrange figures and print). The Colab cell is exempt: it must run
before the package exists."""
import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9]*.ipynb"))
MAX_LINES = 12
#: what a loop body may call: drawing, saving a figure, printing
DRAWING = ("ax", "axes", "fig", "plt", "xai.viz", "print", "display", "range", "len", "zip",
           "enumerate", "float", "int", "str", "f")


def _cells(path):
    cells = json.loads(path.read_text())["cells"]
    return [("".join(c["source"]), c.get("metadata", {}).get("tags", [])) for c in cells
            if c["cell_type"] == "code"]


def _code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines()
               if line.strip() and not line.strip().startswith("#"))


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    if isinstance(node, ast.Subscript):
        return _dotted(node.value)
    return ""


def _computing_calls(loop) -> list[str]:
    """Calls in a loop's body that are not drawing or printing."""
    calls = [_dotted(n.func) for stmt in loop.body for n in ast.walk(stmt)
             if isinstance(n, ast.Call)]
    return [c for c in calls if not any(c == d or c.startswith(d + ".") for d in DRAWING)
            and not c.split(".")[-1].startswith(("set_", "add_", "text", "imshow", "bar", "plot",
                                                  "legend", "axis", "scatter", "tick"))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_cells_are_short_calls(path):
    for source, tags in _cells(path):
        if "google.colab" in source or "parameters" in tags:
            continue
        tree = ast.parse(source)
        assert not [n for n in ast.walk(tree) if isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))], source
        assert _code_lines(source) <= MAX_LINES, f"{path.name}: a cell of " \
            f"{_code_lines(source)} code lines (at most {MAX_LINES}):\n{source}"
        for loop in (n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While))):
            assert not _computing_calls(loop), f"{path.name}: a loop computes " \
                f"({', '.join(_computing_calls(loop))}); move it into xai:\n{source}"


def test_the_loop_rule_catches_a_metric_loop():
    """The checker itself: a loop that scores maps fails, a loop that draws passes."""
    metric = ast.parse("for m in methods:\n    s[m] = xai.metrics.pointing_game(maps[m], r)")
    drawing = ast.parse("for ax, m in zip(axes, methods):\n    ax.imshow(maps[m])\n"
                        "    ax.set_title(m)\n    xai.viz.save(fig, OUT / 'a.png')")
    assert _computing_calls(metric.body[0]) == ["xai.metrics.pointing_game"]
    assert _computing_calls(drawing.body[0]) == []
