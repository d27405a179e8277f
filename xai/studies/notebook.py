"""What every study notebook starts from: where the repository, the offline assets and the
study's output folder are (:func:`setup`), so that a notebook's first cell is one call."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .paths import REPO_ROOT, assets_dir


@dataclass(frozen=True)
class Study:
    """Paths of one study run: the repository ``root``, its ``notebooks`` folder (relative
    parameters are read from there), the offline ``assets``, the ``results`` folder
    (FinalResults/ or the tests' copy) and the study's ``out`` folder in it."""
    name: str
    root: Path
    notebooks: Path
    assets: Path
    results: Path
    out: Path
    profile: str
    smoke: bool

    def path(self, value, default) -> Path:
        """A path parameter (relative to notebooks/, ``~`` expanded), or ``default`` under the
        offline assets when the parameter is empty."""
        if value:
            return (self.notebooks / Path(value).expanduser()).resolve()
        return self.assets / default


def setup(name: str, output_dir="../FinalResults", profile: str = "online",
          smoke: bool = False, subfolder: str | None = None) -> Study:
    """The study ``name``'s paths, with its output folder ``<output_dir>/<subfolder or name>``
    created (``$XAI_OUTPUT_DIR`` replaces ``output_dir``: the tests write elsewhere) and inline
    figures at a modest dpi (:func:`xai.viz.notebook_figures`)."""
    from .. import viz

    if profile not in ("online", "offline"):
        raise ValueError(f"profile must be 'online' or 'offline', got {profile!r}")
    notebooks = REPO_ROOT / "notebooks"
    results = (notebooks / os.environ.get("XAI_OUTPUT_DIR", output_dir)).resolve()
    out = results / (name if subfolder is None else subfolder)
    out.mkdir(parents=True, exist_ok=True)
    viz.notebook_figures()
    shown = out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out
    print(f"{name}: figures and tables go to {shown} | profile: {profile}"
          + (" | smoke run" if smoke else ""))
    return Study(name, REPO_ROOT, notebooks, assets_dir(), results, out, profile, bool(smoke))


def explain_maps(model, x, methods, options: dict | None = None, **common) -> tuple[dict, dict]:
    """Each of ``methods`` on ``x``: ``(results, maps)``, where ``results[m]`` is what
    :func:`xai.explain` returns and ``maps[m]`` one non-negative map per sample for the metrics:
    a map method's result as it is, an attribution as Σ_c |a| (:func:`xai.viz.attribution_to_map`,
    "abs_sum"). ``options[m]`` are the method's own options; ``common`` goes to every method
    (``score``, ``progress``, ...)."""
    from .. import METHODS, explain, viz

    results, maps = {}, {}
    for m in methods:
        results[m] = explain(model, x, method=m, **common, **(options or {}).get(m, {}))
        maps[m] = (results[m] if METHODS[m].returns == "map"
                   else viz.attribution_to_map(results[m], "abs_sum"))
    return results, maps
