"""Paths shared by the loaders: the repository root, the image file extensions, listing a
folder's image files."""
from __future__ import annotations

from pathlib import Path

# this file is xai/data/_files.py: parents[2] is the repository
REPO_ROOT = Path(__file__).resolve().parents[2]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")


def resolve_dir(path) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
