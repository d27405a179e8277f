"""Saving: figures and images to disk (folders created, no run-dependent metadata) and the
inline figure format of executed notebooks."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ._arrays import _as_uint8_image

#: file metadata that would change the bytes from one run or matplotlib version to the next
_NO_STAMPS = {".png": {"Software": None},
              ".pdf": {"Creator": None, "Producer": None, "CreationDate": None},
              ".svg": {"Creator": None, "Date": None}}


def notebook_figures(dpi=60):
    """Show inline figures in Jupyter as PNG at ``dpi`` (the saved files keep their own dpi), so
    executed notebooks stay small and their bytes do not depend on the matplotlib version.
    Outside IPython this does nothing."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        set_matplotlib_formats("png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})


def save_image(image_uint8, path):
    """Write an RGB uint8 image (e.g. an :func:`overlay`) as PNG/JPEG, creating its folders."""
    import cv2
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.ascontiguousarray(_as_uint8_image(image_uint8)[..., ::-1])):
        raise OSError(f"could not write {path}")
    return path


def save(fig, path, dpi=120):
    """Save ``fig`` to ``path`` (format from the suffix, PNG usually), creating its folders.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata=_NO_STAMPS.get(path.suffix.lower()))
    return path
