"""Make an executed notebook a stable, committable result (run by `make run-all`).

papermill stamps every cell with start/end times and durations, and a kernel writes TensorFlow's
start-up lines, warnings and progress bars to stderr. None of that is a result, and all of it
changes from run to run, so two runs of the same code would never give the same file. This keeps
the code, the injected parameters and every stdout/figure/table output, and drops:

* papermill's and Jupyter's timing metadata (notebook and cells), and papermill's paths;
* stderr streams (log noise, warnings, progress bars) and widget outputs (random model ids);
* the random id papermill gives its injected-parameters cell (it becomes "injected-parameters").

It then refuses (exit 1) a notebook that still names a path of this machine, because the
executed notebook must re-run in any clone (nbval re-executes it in CI).

Usage: python tools/tidy_notebook.py NOTEBOOK.ipynb [...]
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat

WIDGET = "application/vnd.jupyter.widget-view+json"
KEEP_PAPERMILL = ("parameters", "default_parameters")


def machine_paths() -> list[str]:
    """Absolute paths that must not appear in a committed notebook."""
    root = str(Path(__file__).resolve().parents[1])
    return sorted({root, str(Path.home()), tempfile.gettempdir() + os.sep} - {"/", ""})


def _kept(output) -> bool:
    if output.get("output_type") == "stream":
        return output.get("name") != "stderr"
    data = output.get("data", {})
    return not (data and set(data) <= {WIDGET, "text/plain"} and WIDGET in data)


def tidy(nb):
    meta = nb.metadata
    meta["papermill"] = {k: v for k, v in meta.get("papermill", {}).items() if k in KEEP_PAPERMILL}
    meta.pop("widgets", None)
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if _kept(o)]
            for o in cell.outputs:
                if "data" in o:
                    o["data"].pop(WIDGET, None)
    return nb


def main(paths) -> int:
    bad = 0
    for path in paths:
        nb = tidy(nbformat.read(path, as_version=4))
        nbformat.write(nb, path)
        text = Path(path).read_text()
        found = [p for p in machine_paths() if p in text]
        if found:
            bad += 1
            print(f"{path}: names machine-specific path(s) {found}; print paths relative to the "
                  "repository (the executed notebook must re-run in any clone)", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
