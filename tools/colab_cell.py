"""The one home of the notebooks' Colab cell (the second code cell of every notebook).

In Colab a notebook opened from GitHub has no project around it, so this cell must be in the
notebook itself, before anything imports xai; it cannot live in the package. Edit COLAB_CELL here
and run ``python tools/colab_cell.py`` to write it into every notebook in notebooks/ (then
``make run-all``); tests/test_results.py fails when a notebook's copy differs.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

COLAB_CELL = '''\
# In Colab: clone the project, install its requirements and work from its notebooks/ folder, so
# that xai, models/ and data/ are found as in a local checkout. Set XAI_REPO to the project's
# git URL first (e.g. `%env XAI_REPO=https://github.com/<owner>/<repo>.git` in a cell above).
# Anywhere else — Jupyter, papermill, make run-all — this cell does nothing.
import os
import subprocess
import sys
from pathlib import Path

if "google.colab" in sys.modules and not (Path.cwd().parent / "xai" / "__init__.py").is_file():
    repo = os.environ.get("XAI_REPO")
    if not repo:
        raise RuntimeError("Set XAI_REPO to the project's git URL, e.g. run "
                           "`%env XAI_REPO=https://github.com/<owner>/<repo>.git`, then rerun.")
    clone = Path("/content/xai-repo")
    if not clone.is_dir():
        subprocess.run(["git", "clone", "--depth", "1", repo, str(clone)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", str(clone)], check=True)
    os.chdir(clone / "notebooks")'''


def colab_cell(nb):
    """The notebook's second code cell (the first is the parameters cell)."""
    return [c for c in nb.cells if c.cell_type == "code"][1]


def main() -> None:
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if colab_cell(nb).source != COLAB_CELL:
            colab_cell(nb).source = COLAB_CELL
            nbformat.write(nb, path)
            print("updated", path.name)


if __name__ == "__main__":
    main()
