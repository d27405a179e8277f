"""A folder of labelled ImageNet photos (one per class in the offline assets): its checked label
table, and the photos cropped the standard evaluation way. The class names themselves are in
:mod:`xai.imagenet`."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._decode import decode, resize
from .images import centre_crop

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["IMAGENET_LABEL_COLUMNS", "imagenet_labels", "load_imagenet_samples"]

IMAGENET_LABEL_COLUMNS = ("file", "wnid", "class_index", "keras_name")
_IMAGENET_HINT = (
    "Expected a folder of photos with a labels.csv of columns file, wnid, class_index, "
    "keras_name (the project's offline assets ship one at ../shared/assets/imagenet_samples; "
    "it was made from github.com/EliSchwartz/imagenet-sample-images, one photo per class)"
)


def imagenet_labels(folder) -> "pd.DataFrame":
    """The label table of a folder of labelled ImageNet photos, checked.

    Parameters
    ----------
    folder : str or Path
        A folder holding the photos and ``labels.csv`` with the columns ``file`` (file name in
        the folder), ``wnid`` (WordNet id), ``class_index`` (Keras' class order, 0-999, as in
        ``imagenet_class_index.json``) and ``keras_name``.

    Returns
    -------
    pandas.DataFrame
        One row per photo, in the file's order, ``class_index`` as int64.

    Raises
    ------
    FileNotFoundError
        The folder, its ``labels.csv`` or a listed photo is missing.
    ValueError
        A column is missing or a class index is not an integer in 0..999.
    """
    import pandas as pd

    root = Path(folder).expanduser()
    csv = root / "labels.csv"
    if not csv.is_file():
        raise FileNotFoundError(f"no labels.csv in {root}. {_IMAGENET_HINT}")
    table = pd.read_csv(csv, dtype={"file": str, "wnid": str, "keras_name": str})
    missing = [c for c in IMAGENET_LABEL_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{csv} has no column {', '.join(missing)} (it has "
                         f"{', '.join(map(str, table.columns))}). {_IMAGENET_HINT}")
    index = pd.to_numeric(table["class_index"], errors="coerce")
    bad = table["file"][~(index.notna() & (index % 1 == 0) & index.between(0, 999))]
    if len(bad):
        raise ValueError(f"{csv}: class_index must be an integer in 0..999 (Keras' ImageNet "
                         f"order); {len(bad)} rows are not, e.g. {bad.iloc[0]!r}")
    absent = [f for f in table["file"] if not (root / f).is_file()]
    if absent:
        raise FileNotFoundError(f"{len(absent)} photos listed in {csv} are not in {root}, e.g. "
                                f"{absent[0]!r}; restore them or remove their rows")
    return table.assign(class_index=index.astype(np.int64))


def load_imagenet_samples(folder, indices=None, size=224, central_fraction=0.875) -> np.ndarray:
    """Labelled ImageNet photos as a network input, cropped the standard evaluation way.

    Each photo is decoded (:func:`decode_image`'s OpenCV path), its largest centred square
    (:func:`centre_crop`) resized with ``cv2.INTER_AREA`` so that its side is
    ``round(size / central_fraction)``, and the central ``size`` x ``size`` window kept: the
    usual "resize the short side to 256, crop the centre 224" (Krizhevsky et al. 2012;
    Simonyan & Zisserman 2015). The offline samples already have a short side of 256, so at
    the defaults nothing is resampled, and MobileNet (alpha 0.25) gets 580/1000 top-1 and
    811/1000 top-5 on them. ``central_fraction=1`` resizes the whole square to ``size``
    instead.

    Parameters
    ----------
    folder : str or Path
        The photos and their ``labels.csv`` (see :func:`imagenet_labels`).
    indices : int array, slice or None
        Rows of the label table to load, in this order (None: all). Load a large folder a
        batch at a time, e.g. ``indices=slice(i, i + 64)``: memory is that of the batch.
    size : int
        Side of the square output (the network input).
    central_fraction : float in (0, 1]
        Side of the kept window over the side of the resized square.

    Returns
    -------
    np.ndarray
        uint8 (N, size, size, 3) RGB; the labels are
        ``imagenet_labels(folder)["class_index"].to_numpy()[indices]``.
    """
    import cv2

    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer (the square input's side), got {size!r}")
    if not 0 < central_fraction <= 1:
        raise ValueError(f"central_fraction must be in (0, 1], got {central_fraction!r}")
    table = imagenet_labels(folder)
    try:
        rows = np.atleast_1d(np.arange(len(table))[slice(None) if indices is None else indices])
    except IndexError as err:
        raise ValueError(f"indices must select rows of the {len(table)}-row label table: "
                         f"{err}") from None
    root, outer = Path(folder).expanduser(), max(int(size), round(size / central_fraction))
    out = np.empty((len(rows), size, size, 3), np.uint8)
    for j, row in enumerate(rows):
        f = root / table["file"].iat[row]
        square = resize(centre_crop(decode(np.fromfile(f, np.uint8), str(f))), (outer,) * 2,
                         cv2.INTER_AREA)
        out[j] = centre_crop(square, size)
    return out
