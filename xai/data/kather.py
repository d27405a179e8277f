"""Kather 2016 colorectal histology tiles (the "HMT" study's data), from the Zenodo zip, its
unpacked folder, or TensorFlow Datasets."""
from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from ._decode import as_hw, decode, resize
from ._files import IMAGE_EXTENSIONS, image_files

__all__ = ["KATHER_CLASSES", "KATHER_FOLDERS", "load_kather", "load_kather_tfds"]

KATHER_CLASSES = ("tumour", "stroma", "complex", "lympho", "debris", "mucosa", "adipose", "empty")
KATHER_FOLDERS = (
    "01_TUMOR", "02_STROMA", "03_COMPLEX", "04_LYMPHO",
    "05_DEBRIS", "06_MUCOSA", "07_ADIPOSE", "08_EMPTY",
)
_KATHER_HINT = (
    "Download Kather_texture_2016_image_tiles_5000.zip from https://zenodo.org/record/53169 and "
    "pass the zip (or the folder it unpacks to), or use load_kather_tfds()"
)


def _kather_label(folder_name: str):
    name = folder_name.upper()
    if name in KATHER_FOLDERS:
        return KATHER_FOLDERS.index(name)
    return None


def _kather_finish(imgs, labels, names, size, max_per_class):
    import cv2

    order = sorted(range(len(names)), key=lambda i: (labels[i], names[i]))
    if max_per_class is not None:
        seen, kept = {}, []
        for i in order:
            if seen.get(labels[i], 0) < max_per_class:
                seen[labels[i]] = seen.get(labels[i], 0) + 1
                kept.append(i)
        order = kept
    hw = as_hw(size)
    x = np.empty((len(order), *hw, 3), np.float32)
    for j, i in enumerate(order):
        img = imgs[i]() if callable(imgs[i]) else imgs[i]
        x[j] = resize(img, hw, cv2.INTER_LINEAR).astype(np.float32) / 255.0
    y = np.asarray([labels[i] for i in order], np.int64)
    return x, y, [names[i] for i in order]


def load_kather(path, size=224, max_per_class=None):
    """Load the Kather 2016 colorectal texture tiles (the "HMT" study's data).

    Kather et al. 2016, "Multi-class texture analysis in colorectal cancer histology",
    Sci. Rep. 6:27988; data at Zenodo record 53169: 5000 H&E tiles of 150x150 px, 8 classes.

    Parameters
    ----------
    path : str or Path
        Either a folder holding the class sub-folders ``01_TUMOR`` ... ``08_EMPTY`` (directly or
        one level down, as the zip unpacks), or the Zenodo zip
        ``Kather_texture_2016_image_tiles_5000.zip`` itself.
    size : int or (H, W)
        Output size; tiles are resized bilinearly (``cv2.INTER_LINEAR``).
    max_per_class : int, optional
        Keep at most this many tiles per class (the first by file name), to save memory: the
        full set at 224x224 is about 3 GB of float32.

    Returns
    -------
    x : np.ndarray
        float32 (N, size, size, 3), RGB in [0, 1].
    y : np.ndarray
        int64 (N,), index into :data:`KATHER_CLASSES`.
    names : list of str
        ``"<class folder>/<file name>"`` for each tile, in the order of ``x``.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"Kather 2016 data not found at {path}. {_KATHER_HINT}")
    imgs, labels, names = [], [], []
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path} is a file but not a zip archive. {_KATHER_HINT}")
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                member = PurePosixPath(info.filename)
                if info.is_dir() or member.suffix.lower() not in IMAGE_EXTENSIONS:
                    continue
                if len(member.parts) < 2 or member.name.startswith("."):
                    continue
                label = _kather_label(member.parts[-2])
                if label is None:
                    continue
                data = zf.read(info)
                imgs.append(decode(data, f"{path}:{info.filename}"))
                labels.append(label)
                names.append(f"{member.parts[-2]}/{member.name}")
    else:
        root = path
        if not any(_kather_label(p.name) is not None for p in root.iterdir() if p.is_dir()):
            subdirs = [p for p in root.iterdir() if p.is_dir()]
            if len(subdirs) == 1:  # the unpacked zip: Kather_texture_2016_image_tiles_5000/0N_*/
                root = subdirs[0]
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            label = _kather_label(folder.name)
            if label is None:
                continue
            for f in image_files(folder):
                imgs.append(lambda f=f: decode(np.fromfile(f, np.uint8), str(f)))
                labels.append(label)
                names.append(f"{folder.name}/{f.name}")
    if not names:
        raise ValueError(
            f"no Kather 2016 tiles found in {path}: expected class sub-folders "
            f"{', '.join(KATHER_FOLDERS)} holding image files. {_KATHER_HINT}"
        )
    return _kather_finish(imgs, labels, names, size, max_per_class)


def load_kather_tfds(size=224, split="train", data_dir=None, max_per_class=None):
    """The same tiles from TensorFlow Datasets (``colorectal_histology``), same class order.

    Needs ``tensorflow-datasets`` and, the first time, a network connection (TFDS downloads the
    Zenodo zip and prepares it under ``data_dir``, default ``~/tensorflow_datasets``).

    Returns
    -------
    x, y, names
        As :func:`load_kather`; names are ``"colorectal_histology/<index>"``.
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError as err:
        raise ImportError(
            "load_kather_tfds needs tensorflow-datasets: pip install tensorflow-datasets. "
            "Offline, download Kather_texture_2016_image_tiles_5000.zip (Zenodo record 53169) "
            "and call load_kather(path_to_zip) instead."
        ) from err
    try:
        ds = tfds.load("colorectal_histology", split=split, as_supervised=True, data_dir=data_dir)
    except Exception as err:
        raise RuntimeError(
            f"tensorflow_datasets could not load 'colorectal_histology' ({type(err).__name__}: "
            f"{err}). It downloads the data the first time: check the network, or download "
            "Kather_texture_2016_image_tiles_5000.zip (Zenodo record 53169) and call "
            "load_kather(path_to_zip)."
        ) from err
    imgs, labels, names = [], [], []
    for i, (img, label) in enumerate(tfds.as_numpy(ds)):
        imgs.append(np.asarray(img, np.uint8)[..., :3])
        labels.append(int(label))
        names.append(f"colorectal_histology/{i:05d}")
    return _kather_finish(imgs, labels, names, size, max_per_class)
