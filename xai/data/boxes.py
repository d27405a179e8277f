"""Hand-drawn object boxes of the sample photos (``data/boxes.json``)."""
from __future__ import annotations

from pathlib import Path

from ._files import REPO_ROOT

__all__ = ["load_boxes"]


def load_boxes(path=None) -> dict:
    """Hand-drawn object boxes of the sample photos (``data/boxes.json``, drawn by eye).

    Parameters
    ----------
    path : str or Path, optional
        A JSON file in the same format; default the repository's ``data/boxes.json``.

    Returns
    -------
    dict
        image name (``"chelsea"``, ``"cat_dog"``, ...) -> ``{"source", "width", "height",
        "objects": [{"label", "classes": [ImageNet names], "box": [x0, y0, x1, y1]}]}``, boxes
        in the original image's pixels (x1, y1 exclusive). Turn an entry into a mask at the
        model's input size with :func:`xai.metrics.object_mask`.
    """
    import json

    path = Path(path) if path is not None else REPO_ROOT / "data" / "boxes.json"
    if not path.is_file():
        raise FileNotFoundError(f"no box file at {path}; pass path= to a JSON file like the "
                                "repository's data/boxes.json")
    images = json.loads(path.read_text())["images"]
    for name, entry in images.items():
        w, h = entry["width"], entry["height"]
        for obj in entry["objects"]:
            x0, y0, x1, y1 = obj["box"]
            if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
                raise ValueError(f"{path}: box {obj['box']} of {name!r} ({obj['label']}) is not "
                                 f"inside its {w} x {h} image")
    return images
