"""Paediatric chest X-rays (Kermany et al. 2018) in their split folders of NORMAL/ and
PNEUMONIA/ images."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ._decode import as_hw, decode, resize
from ._files import image_files

__all__ = ["XRAY_CLASSES", "load_xray"]

XRAY_CLASSES = ("NORMAL", "PNEUMONIA")
_XRAY_HINT = (
    "Kermany et al. 2018 (Cell 172:1122; Mendeley Data doi:10.17632/rscbjbr9sj; also Kaggle "
    "'chest-xray-pneumonia') unpacks to chest_xray/{train,test,val}/{NORMAL,PNEUMONIA}/: pass "
    "one split folder, e.g. chest_xray/test"
)


def load_xray(path, size=150, max_per_class=None, interpolation="nearest"):
    """Load a folder of chest X-rays in the Kermany layout: ``NORMAL/`` and ``PNEUMONIA/``.

    Parameters
    ----------
    path : str or Path
        A split folder holding ``NORMAL/`` and ``PNEUMONIA/`` sub-folders of image files.
    size : int or (H, W)
        Output size (150 for the pneumonia CNN of ``xai.train.xray_cnn``).
    max_per_class : int, optional
        Keep at most this many images per class (the first by file name).
    interpolation : "nearest", "linear" or "area"
        Resizing. Nearest (default) is what Keras' ``flow_from_directory`` used to train the
        published pneumonia CNN, so its accuracy is reproduced exactly.

    Returns
    -------
    x : float32 (N, H, W, 3), RGB scaled to [0, 1] (grayscale files are repeated over 3 channels)
    y : int64 (N,), 0 = NORMAL, 1 = PNEUMONIA (:data:`XRAY_CLASSES`, alphabetical as in Keras)
    names : list of str, ``"<class>/<file name>"``
    """
    import cv2

    # INTER_NEAREST_EXACT samples pixel centres, as PIL (Keras' load_img) does
    modes = {"nearest": cv2.INTER_NEAREST_EXACT, "linear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA}
    if interpolation not in modes:
        raise ValueError(f"interpolation must be one of {tuple(modes)}, got {interpolation!r}")
    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"chest X-ray folder not found: {root}. {_XRAY_HINT}")
    missing = [c for c in XRAY_CLASSES if not (root / c).is_dir()]
    if missing:
        raise ValueError(f"{root} has no {' or '.join(m + '/' for m in missing)} sub-folder. "
                         f"{_XRAY_HINT}")
    files = [(label, f) for label, c in enumerate(XRAY_CLASSES)
             for f in image_files(root / c)[:max_per_class]]
    if not files:
        raise ValueError(f"no image files in {root}/NORMAL or {root}/PNEUMONIA. {_XRAY_HINT}")
    hw = as_hw(size)
    x = np.empty((len(files), *hw, 3), np.float32)
    for i, (_, f) in enumerate(files):
        img = decode(np.fromfile(f, np.uint8), str(f))
        x[i] = resize(img, hw, modes[interpolation]).astype(np.float32) / 255.0
    y = np.array([label for label, _ in files], np.int64)
    return x, y, [f"{f.parent.name}/{f.name}" for _, f in files]
