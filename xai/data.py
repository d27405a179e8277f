"""Datasets and images: MNIST-1D, Kather 2016 colorectal histology ("HMT"), Kermany 2018
paediatric chest X-rays, labelled ImageNet photos, image files.

Loaders return plain NumPy arrays in the space the models expect; they know nothing about
explanation methods. Images are read with OpenCV (``cv2.imdecode``), which handles JPEG, PNG,
TIFF and BMP, grayscale and RGBA, and 16-bit files, and works the same for files on disk and
members of a zip archive. Before decoding, the size an image declares in its header is checked
against :data:`MAX_PIXELS`, so a small file claiming a huge size (a decompression bomb) is refused
without allocating its pixels.
"""
from __future__ import annotations

import io
import os
import random
import warnings
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "REPO_ROOT",
    "KATHER_CLASSES",
    "KATHER_FOLDERS",
    "IMAGE_EXTENSIONS",
    "centre_crop",
    "decode_image",
    "MAX_PIXELS",
    "ImageTooLargeError",
    "check_image_size",
    "mnist1d",
    "load_kather",
    "load_kather_tfds",
    "load_xray",
    "XRAY_CLASSES",
    "load_image",
    "load_images",
    "sample_images",
    "load_boxes",
    "IMAGENET_LABEL_COLUMNS",
    "imagenet_labels",
    "load_imagenet_samples",
]

REPO_ROOT = Path(__file__).resolve().parents[1]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")

# --------------------------------------------------------------------------------------------
# MNIST-1D
# --------------------------------------------------------------------------------------------

_MNIST1D_CACHE = "mnist1d_canonical.npz"


def _resolve_dir(path) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def _make_mnist1d() -> dict:
    """Generate the canonical MNIST-1D split with the mnist1d package, offline.

    ``mnist1d.data.make_dataset`` reseeds Python's and NumPy's global random generators; their
    states are restored afterwards so that loading data never changes a caller's random stream.
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "MNIST-1D needs the `mnist1d` package: pip install mnist1d"
        ) from err
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return {
        "x_train": np.asarray(d["x"], np.float32)[..., None],
        "y_train": np.asarray(d["y"], np.int64),
        "x_test": np.asarray(d["x_test"], np.float32)[..., None],
        "y_test": np.asarray(d["y_test"], np.int64),
        "t": np.asarray(d["t"], np.float32),
    }


def mnist1d(cache_dir="data/") -> dict:
    """The canonical MNIST-1D dataset (Greydanus 2020), generated offline.

    Calls ``mnist1d.data.make_dataset(get_dataset_args())`` -- the package's default arguments:
    5000 signals, seed 42, 80/20 split, length 40 -- never ``get_dataset`` (which downloads).

    Parameters
    ----------
    cache_dir : str or Path or None
        Folder for a ``.npz`` cache of the generated arrays. Relative paths are taken from the
        repository root (``data/`` by default, which git ignores). ``None`` disables caching.

    Returns
    -------
    dict
        ``x_train`` float32 (4000, 40, 1), ``y_train`` int64 (4000,), ``x_test`` float32
        (1000, 40, 1), ``y_test`` int64 (1000,), ``t`` float32 (40,) (the sample positions).
    """
    keys = ("x_train", "y_train", "x_test", "y_test", "t")
    cache = None if cache_dir is None else _resolve_dir(cache_dir) / _MNIST1D_CACHE
    if cache is not None and cache.is_file():
        try:
            with np.load(cache) as z:
                data = {k: z[k] for k in keys}
            if data["x_train"].shape == (4000, 40, 1) and data["x_test"].shape == (1000, 40, 1):
                return data
        except Exception:  # corrupt or partial cache: regenerate below
            pass
    data = _make_mnist1d()
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            # write to a temporary file then rename, so concurrent readers never see half a file
            fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".npz.tmp")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **data)
            os.replace(tmp, cache)
        except OSError:  # read-only checkout: caching is only an optimisation
            pass
    return data


# --------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------


def _as_hw(size):
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    h, w = size
    return int(h), int(w)


#: The most pixels (width x height) an image file may declare; ``$XAI_MAX_PIXELS``, when set,
#: takes precedence. 50 million is a 50-megapixel photo, about 150 MB decoded.
MAX_PIXELS = 50_000_000


class ImageTooLargeError(ValueError):
    """An image file declares more pixels than :data:`MAX_PIXELS`."""


def _max_pixels() -> int:
    text = os.environ.get("XAI_MAX_PIXELS", "").strip()
    if not text:
        return int(MAX_PIXELS)
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"XAI_MAX_PIXELS must be a whole number of pixels, got {text!r}")
    return int(text)


def check_image_size(data, what: str = "the image") -> tuple[int, int]:
    """(H, W) of an image file's bytes, read from its header only (PIL's lazy ``Image.open``).

    Raises :class:`ImageTooLargeError` when the image declares more than :data:`MAX_PIXELS`
    pixels (``$XAI_MAX_PIXELS`` when set; PIL itself refuses more than twice
    ``PIL.Image.MAX_IMAGE_PIXELS``), and ValueError when the header is not an image's.
    """
    from PIL import Image, UnidentifiedImageError

    limit = _max_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
        declared = f"{w} x {h} = {w * h:,} pixels"
    except Image.DecompressionBombError:  # PIL's own bound, 2 x Image.MAX_IMAGE_PIXELS
        w = h = None
        declared = (f"more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels (twice "
                    "PIL.Image.MAX_IMAGE_PIXELS)")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValueError(f"could not decode {what} as an image (supported: "
                         f"{', '.join(IMAGE_EXTENSIONS)})") from None
    if w is None or w * h > limit:
        raise ImageTooLargeError(
            f"{what} declares {declared}, more than the limit of {limit:,} "
            "(xai.data.MAX_PIXELS): resize it first, or raise the limit with the environment "
            "variable XAI_MAX_PIXELS if you trust the file")
    return h, w


def _check_opencv_limits(h: int, w: int, what: str):
    """OpenCV refuses images wider or taller than CV_IO_MAX_IMAGE_WIDTH / _HEIGHT (2^20 unless
    set in the environment) or larger than CV_IO_MAX_IMAGE_PIXELS (2^30)."""
    def limit(name, default):
        text = os.environ.get(name, "").strip()
        return int(text) if text.isascii() and text.isdigit() else default
    width = limit("CV_IO_MAX_IMAGE_WIDTH", 1 << 20)
    height = limit("CV_IO_MAX_IMAGE_HEIGHT", 1 << 20)
    pixels = limit("CV_IO_MAX_IMAGE_PIXELS", 1 << 30)
    if w > width or h > height or w * h > pixels:
        raise ImageTooLargeError(
            f"{what} declares {w} x {h} pixels; OpenCV reads at most {width:,} x {height:,} "
            f"and {pixels:,} pixels in all: resize it first")


def _decode(buf: bytes | np.ndarray, what: str) -> np.ndarray:
    """Bytes of an image file -> uint8 RGB (H, W, 3), refusing more than MAX_PIXELS pixels."""
    import cv2

    arr = np.frombuffer(buf, np.uint8) if isinstance(buf, (bytes, bytearray)) else buf
    _check_opencv_limits(*check_image_size(memoryview(arr), what), what)
    # IMREAD_COLOR: gray -> 3 channels, alpha dropped, 16-bit -> 8-bit, EXIF orientation applied
    try:
        img = cv2.imdecode(arr, cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise ValueError(f"OpenCV could not decode {what}: {str(exc).strip().splitlines()[-1]}"
                         ) from None
    if img is None:
        raise ValueError(f"could not decode {what} as an image (supported: {', '.join(IMAGE_EXTENSIONS)})")
    return np.ascontiguousarray(img[..., ::-1])  # BGR -> RGB


def _resize(img: np.ndarray, hw, interpolation) -> np.ndarray:
    import cv2

    if hw is None or img.shape[:2] == tuple(hw):
        return img
    return cv2.resize(img, (hw[1], hw[0]), interpolation=interpolation)


def centre_crop(image, size=None) -> np.ndarray:
    """The largest centred square of an image (H, W, ...), as a view: resizing it to a square
    network input keeps the photo's aspect ratio, as ImageNet evaluation does (resize the short
    side, crop the centre; Simonyan & Zisserman 2015, sec. 3.2), instead of squashing it.
    An odd surplus leaves the extra row or column at the bottom or right.

    ``size`` (int or (H, W), optional): crop a centred window of this size instead (it must
    fit in the image), e.g. the central 224 x 224 of a photo whose short side is 256.
    """
    image = np.asarray(image)
    if image.ndim < 2 or min(image.shape[:2]) < 1:
        raise ValueError("centre_crop takes an image (H, W) or (H, W, C), got shape "
                         f"{image.shape}")
    h, w = image.shape[:2]
    ch, cw = (min(h, w),) * 2 if size is None else _as_hw(size)
    if not (0 < ch <= h and 0 < cw <= w):
        raise ValueError(f"centre_crop: a {ch} x {cw} window does not fit in the {h} x {w} "
                         "image; resize the image first or crop a smaller window")
    top, left = (h - ch) // 2, (w - cw) // 2
    return image[top:top + ch, left:left + cw]


def load_image(path, size=None) -> np.ndarray:
    """Read an image file as uint8 RGB.

    Parameters
    ----------
    path : str or Path
        Image file (JPEG, PNG, TIFF, BMP, WebP). Grayscale is expanded to 3 channels, an alpha
        channel is dropped, 16-bit images are scaled to 8 bits.
    size : int or (H, W), optional
        Resize to this size with ``cv2.INTER_AREA``.

    Returns
    -------
    np.ndarray
        uint8 (H, W, 3).
    """
    import cv2

    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    img = _decode(np.fromfile(path, np.uint8), str(path))
    return _resize(img, _as_hw(size), cv2.INTER_AREA)


def decode_image(data: bytes, size=None) -> np.ndarray:
    """The bytes of an image file (e.g. an upload) as uint8 RGB (H, W, 3); see :func:`load_image`."""
    import cv2

    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ValueError("decode_image takes the non-empty bytes of an image file")
    return _resize(_decode(bytes(data), "the data"), _as_hw(size), cv2.INTER_AREA)


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def load_images(paths_or_folder, size=None):
    """Read several images into one uint8 batch.

    Parameters
    ----------
    paths_or_folder : str, Path or sequence of them
        A folder (its image files, sorted by name, not recursive) or a list of image files.
    size : int or (H, W), optional
        Resize every image to this size (``cv2.INTER_AREA``). Required when the images differ
        in size.

    Returns
    -------
    images : np.ndarray
        uint8 (N, H, W, 3).
    names : list of str
        The file names (without folder).
    """
    if isinstance(paths_or_folder, (str, os.PathLike)):
        p = Path(paths_or_folder).expanduser()
        if p.is_dir():
            paths = _image_files(p)
            if not paths:
                raise ValueError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in folder {p}")
        else:
            paths = [p]
    else:
        paths = [Path(q).expanduser() for q in paths_or_folder]
        if not paths:
            raise ValueError("load_images got an empty list of paths")
    imgs = [load_image(p, size) for p in paths]
    shapes = {im.shape for im in imgs}
    if len(shapes) > 1:
        raise ValueError(
            f"images have different sizes {sorted(shapes)}; pass size=(H, W) to resize them"
        )
    return np.stack(imgs), [p.name for p in paths]


_SAMPLE_IMAGES = ("chelsea", "coffee", "astronaut", "rocket")


def sample_images(size=None) -> dict:
    """scikit-image's bundled photos (no download): chelsea (cat), coffee, astronaut, rocket.

    Parameters
    ----------
    size : int or (H, W), optional
        Resize every image (``cv2.INTER_AREA``).

    Returns
    -------
    dict
        name -> uint8 (H, W, 3).
    """
    import cv2
    import skimage.data

    hw = _as_hw(size)
    return {
        name: _resize(np.ascontiguousarray(getattr(skimage.data, name)()[..., :3]), hw, cv2.INTER_AREA)
        for name in _SAMPLE_IMAGES
    }


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


# --------------------------------------------------------------------------------------------
# ImageNet sample photos (one per class)
# --------------------------------------------------------------------------------------------

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
        square = _resize(centre_crop(_decode(np.fromfile(f, np.uint8), str(f))), (outer,) * 2,
                         cv2.INTER_AREA)
        out[j] = centre_crop(square, size)
    return out


# --------------------------------------------------------------------------------------------
# Kather 2016 colorectal histology ("HMT")
# --------------------------------------------------------------------------------------------

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
    hw = _as_hw(size)
    x = np.empty((len(order), *hw, 3), np.float32)
    for j, i in enumerate(order):
        img = imgs[i]() if callable(imgs[i]) else imgs[i]
        x[j] = _resize(img, hw, cv2.INTER_LINEAR).astype(np.float32) / 255.0
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
                imgs.append(_decode(data, f"{path}:{info.filename}"))
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
            for f in _image_files(folder):
                imgs.append(lambda f=f: _decode(np.fromfile(f, np.uint8), str(f)))
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


# --------------------------------------------------------------------------------------------
# Paediatric chest X-rays (Kermany et al. 2018)
# --------------------------------------------------------------------------------------------

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
             for f in _image_files(root / c)[:max_per_class]]
    if not files:
        raise ValueError(f"no image files in {root}/NORMAL or {root}/PNEUMONIA. {_XRAY_HINT}")
    hw = _as_hw(size)
    x = np.empty((len(files), *hw, 3), np.float32)
    for i, (_, f) in enumerate(files):
        img = _decode(np.fromfile(f, np.uint8), str(f))
        x[i] = _resize(img, hw, modes[interpolation]).astype(np.float32) / 255.0
    y = np.array([label for label, _ in files], np.int64)
    return x, y, [f"{f.parent.name}/{f.name}" for _, f in files]
