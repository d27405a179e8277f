"""Where the studies find things: the repository (:data:`REPO_ROOT`), the offline assets
(:func:`assets_dir`) and the folder of a setting's per-sample table (:func:`samples_dir`)."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def assets_dir() -> Path:
    """The offline assets: ``$XAI_ASSETS``, else ``../shared/assets`` beside the repository."""
    return Path(os.environ.get("XAI_ASSETS", REPO_ROOT.parent / "shared" / "assets"))


def samples_dir(results: Path, study: str, setting: str) -> Path:
    """Folder of a setting's per-sample table: ``<results>/<study>/samples/<setting>``."""
    return Path(results) / study / "samples" / setting.replace(" ", "_")
